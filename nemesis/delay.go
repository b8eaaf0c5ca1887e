package nemesis

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/locktest/locktest/delayproxy"
)

// Link is one client→node path that a fault can slow down or take down (a delayproxy.Proxy).
type Link interface {
	SetDelay(toTarget, fromTarget time.Duration)
	// Cut takes the path down until Restore: Drop holds what is sent and delivers it on Restore,
	// Reject resets its connections and refuses new ones.
	Cut(mode PartitionMode)
	Restore()
}

// ProxyLink is a delaying proxy as a Link: a partition's drop stalls it (the bytes are held and
// delivered when the cut heals, as TCP retransmits), its reject resets its connections.
func ProxyLink(p *delayproxy.Proxy) Link { return proxyLink{p} }

type proxyLink struct{ *delayproxy.Proxy }

func (p proxyLink) Cut(mode PartitionMode) {
	if mode == Reject {
		p.Proxy.Cut(delayproxy.Reset)
		return
	}
	p.Proxy.Cut(delayproxy.Stall)
}

// Links are the paths from client processes to nodes, each through a proxy of its own. Delay and
// cuts are injected in user space (a proxy on 127.0.0.1 per client and node) because tc netem is
// not available everywhere (this project's CI kernel lacks it), and because a per-client path is
// what these stories need: only one client's writes arrive late (Kleppmann's K2), or one client
// loses the lock nodes while it still reaches the storage, which a partition inside a node's
// container cannot do (every host client reaches a node from the same address).
type Links interface {
	// Link returns the path from client process to node, if the run routes it through a proxy.
	Link(process int, node string) (Link, bool)
	// Processes is the number of client processes.
	Processes() int
	// LockNodes are the names of the lock nodes linked (the storage node is linked too).
	LockNodes() []string
}

// LockNodes is the link target naming every lock node ("A:lock": client A's paths to all of them).
const LockNodes = "lock"

// resolveLinks returns the paths targets name: a node ("n3", "storage", or "lock" for every lock
// node) is every client's path to it, "pN:node" one client's.
func resolveLinks(l Links, kind Kind, targets []Target) ([]Link, error) {
	var out []Link
	for _, t := range targets {
		procs := make([]int, 0, l.Processes())
		if t.Client != "" {
			p, err := t.Process()
			if err != nil || p == Holder {
				return nil, fmt.Errorf("%s target %q: want node or pN:node", kind, t)
			}
			procs = append(procs, p)
		} else {
			for i := 0; i < l.Processes(); i++ {
				procs = append(procs, i)
			}
		}
		nodes := []string{t.Node}
		if t.Node == LockNodes {
			nodes = l.LockNodes()
		}
		for _, p := range procs {
			for _, n := range nodes {
				d, ok := l.Link(p, n)
				if !ok {
					return nil, fmt.Errorf("%s target %q: no link from p%d to %s through a proxy (is the run routing through proxies?)", kind, t, p, n)
				}
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// NewDelay returns a fault that delays what clients send to nodes by delay. A target is a node
// ("n3": every client's traffic to it) or a client process's link to one ("p2:n3"). Heal sets the
// delay back to zero; data already queued is still delivered late, as it would be on a slow link.
func NewDelay(l Links, delay time.Duration, targets ...Target) (Fault, error) {
	links, err := resolveLinks(l, Delay, targets)
	if err != nil {
		return nil, err
	}
	return &netDelay{delay: delay, targets: WriteTargets(targets), links: links}, nil
}

type netDelay struct {
	delay   time.Duration
	targets []string
	links   []Link

	mu sync.Mutex
}

func (f *netDelay) Kind() Kind        { return Delay }
func (f *netDelay) Targets() []string { return f.targets }
func (f *netDelay) Detail() string    { return fmt.Sprintf("+%v on what clients send", f.delay) }

func (f *netDelay) Inject(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.links {
		l.SetDelay(f.delay, 0)
	}
	return nil
}

func (f *netDelay) Heal(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.links {
		l.SetDelay(0, 0)
	}
	return nil
}
