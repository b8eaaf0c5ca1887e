package nemesis

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Delayer is one delayable client→node path (a delayproxy.Proxy).
type Delayer interface {
	SetDelay(toTarget, fromTarget time.Duration)
}

// Links are the delayable paths from client processes to nodes. Delay is injected in user space
// (a proxy on 127.0.0.1 per client and node) because tc netem is not available everywhere (this
// project's CI kernel lacks it), and because a per-client path is what Kleppmann's delayed-write
// story needs: only one client's writes arrive late.
type Links interface {
	// Link returns the path from client process to node, if the run routes it through a proxy.
	Link(process int, node string) (Delayer, bool)
	// Processes is the number of client processes.
	Processes() int
}

// NewDelay returns a fault that delays what clients send to nodes by delay. A target is a node
// ("n3": every client's traffic to it) or a client process's link to one ("p2:n3"). Heal sets the
// delay back to zero; data already queued is still delivered late, as it would be on a slow link.
func NewDelay(l Links, delay time.Duration, targets ...Target) (Fault, error) {
	f := &netDelay{delay: delay, targets: WriteTargets(targets)}
	for _, t := range targets {
		procs := make([]int, 0, l.Processes())
		if t.Client != "" {
			p, err := t.Process()
			if err != nil || p == Holder {
				return nil, fmt.Errorf("delay target %q: want node or pN:node", t)
			}
			procs = append(procs, p)
		} else {
			for i := 0; i < l.Processes(); i++ {
				procs = append(procs, i)
			}
		}
		for _, p := range procs {
			d, ok := l.Link(p, t.Node)
			if !ok {
				return nil, fmt.Errorf("delay target %q: no delayable link from p%d to %s (is the run routing through proxies?)", t, p, t.Node)
			}
			f.links = append(f.links, d)
		}
	}
	return f, nil
}

type netDelay struct {
	delay   time.Duration
	targets []string
	links   []Delayer

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
