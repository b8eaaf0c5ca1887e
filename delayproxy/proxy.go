// Package delayproxy is a small user-space TCP proxy on 127.0.0.1 that can
// delay the bytes flowing through it, switchable at run time.
//
// It exists because tc netem is unavailable on the test machine (the kernel is
// built without CONFIG_NET_SCH_NETEM), yet the nemesis needs a network-delay
// fault: Kleppmann's scenario K2, where a client's write reaches the storage
// node after the client's lock lease has expired. locktest's clients connect to
// a Redis node through a Proxy; the nemesis calls SetDelay to inject and heal
// the fault.
//
// All traffic stays on 127.0.0.1: the proxy listens only on 127.0.0.1 and
// refuses targets on any other address.
//
// # Semantics
//
// Each accepted client connection gets its own connection to the target and
// two independent directions: client→target ("to target") and
// target→client ("from target"). For each direction:
//
//   - Delay is applied per chunk read (one Read on the source socket, up to
//     32 KiB), not per byte. A chunk read at time t is written to the
//     destination no earlier than t+d, where d is the delay in force for that
//     direction when the chunk was read. Changing the delay never affects
//     chunks already read.
//   - Order is preserved (TCP semantics): chunks are written strictly in the
//     order they were read. When the delay is lowered, chunks queued under the
//     old, longer delay are not released early, and chunks read later wait
//     behind them (head-of-line), so nothing is ever reordered.
//   - Reading is not blocked by pending delayed writes: chunks wait in a
//     per-direction FIFO queue, each released at its own time, so a 3 s delay
//     adds 3 s of latency but does not throttle throughput to one chunk per 3 s.
//   - Memory is bounded: at most MaxQueued bytes (plus a small per-chunk
//     overhead, see chunkOverhead) wait in a direction's queue. When the cap is
//     reached the proxy stops reading from the source (backpressure, which TCP
//     propagates to the sender) until the queue drains.
//   - Pass-through is cheap: when the direction's delay is 0 and nothing is
//     queued, the reading goroutine writes the chunk straight to the
//     destination, without copying it, queueing it or waking another goroutine.
//
// # Close propagation
//
//   - End of stream (EOF, or any read error such as a reset) on a source is
//     propagated as a half-close (TCP FIN via CloseWrite) to the destination
//     after all data already read in that direction has been delivered, with
//     its delay. This is deliberate: in scenario K2 the client may give up and
//     close its connection while its delayed write is still in flight; the
//     write must still reach the storage node late, as it would on a real
//     slow network.
//   - If a write to a destination fails (its peer has gone), the data queued
//     in that direction is dropped and later data read from the source is
//     discarded until the source reaches end of stream.
//   - A proxied connection is fully closed (both sockets) once both
//     directions have finished. Like a real half-open TCP connection, it stays
//     open if one side half-closes and the other never closes; Proxy.Close
//     ends it regardless.
//   - If the target cannot be reached (e.g. connection refused), the client's
//     connection is closed at once; the client sees EOF.
//   - Proxy.Close stops listening, closes every proxied connection at once
//     (data still queued is discarded) and returns only after every goroutine
//     the proxy started has exited.
//
// # Cuts
//
// Cut takes the link down until Restore, in one of two ways, as a firewall
// would:
//
//   - Stall, like dropped packets: nothing is delivered either way, but every
//     byte sent is kept, in order, and delivered when the link is restored, as
//     TCP retransmission would after a partition heals (a late write still
//     lands). Connections opened meanwhile stay open and wait too.
//   - Reset, like rejected packets: every connection is closed with a reset
//     (RST) on both sides, discarding what was queued, and connections opened
//     meanwhile are reset at once. Nothing sent is delivered later.
package delayproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MaxQueued is the cap on bytes queued per connection and direction.
const MaxQueued = 8 << 20

const (
	// readBufSize is the largest chunk read (and so delayed) at once.
	readBufSize = 32 << 10
	// chunkOverhead is charged against MaxQueued for every queued chunk, in
	// addition to its length, so that many tiny chunks cannot use much more
	// memory than the cap suggests.
	chunkOverhead = 64
)

var loopback = net.IPv4(127, 0, 0, 1)

type delays struct{ toTarget, fromTarget time.Duration }

// Proxy forwards TCP connections from a listener on 127.0.0.1 to a target
// address, optionally delaying the data. All methods are safe for concurrent
// use.
type Proxy struct {
	ln        *net.TCPListener
	target    string
	maxQueued int
	delay     atomic.Pointer[delays]
	// cut is the link's state: nil when it is up, else the cut in force.
	cut atomic.Pointer[cutState]

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the proxy starts

	mu     sync.Mutex
	closed bool
	conns  map[*conn]struct{}

	closeOnce sync.Once
	closeErr  error
}

// conn is one proxied connection: a client socket and its target socket.
type conn struct {
	client, target *net.TCPConn
	up, down       *pipe // client→target, target→client
}

// Start listens on 127.0.0.1:0 and forwards every accepted connection to
// target, which must be "127.0.0.1:port" (or "localhost:port", dialled as
// 127.0.0.1). The proxy starts in pass-through mode (no delay).
func Start(target string) (*Proxy, error) {
	return start(target, MaxQueued)
}

func start(target string, maxQueued int) (*Proxy, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return nil, fmt.Errorf("delayproxy: target %q: %w", target, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.Equal(loopback) {
		return nil, fmt.Errorf("delayproxy: target %q: only 127.0.0.1 is allowed", target)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("delayproxy: target %q: bad port", target)
	}
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: loopback, Port: 0})
	if err != nil {
		return nil, fmt.Errorf("delayproxy: listen on 127.0.0.1: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		ln:        ln,
		target:    net.JoinHostPort("127.0.0.1", port),
		maxQueued: maxQueued,
		ctx:       ctx,
		cancel:    cancel,
		conns:     make(map[*conn]struct{}),
	}
	p.delay.Store(&delays{})
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the address clients connect to, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetDelay sets the delay applied to data read from now on, per direction:
// toTarget for client→target data, fromTarget for target→client data.
// Negative values count as 0; SetDelay(0, 0) restores pass-through. Data
// already read keeps the delay it was read under. Safe to call while
// connections are active.
func (p *Proxy) SetDelay(toTarget, fromTarget time.Duration) {
	p.delay.Store(&delays{toTarget: max(toTarget, 0), fromTarget: max(fromTarget, 0)})
}

// Delay returns the delays currently in force, as last set by SetDelay.
func (p *Proxy) Delay() (toTarget, fromTarget time.Duration) {
	d := p.delay.Load()
	return d.toTarget, d.fromTarget
}

// CutMode is how Cut takes a link down.
type CutMode int

const (
	// Stall holds every byte until Restore, then delivers it (dropped packets, retransmitted).
	Stall CutMode = iota + 1
	// Reset closes every connection with a reset and refuses new ones (rejected packets).
	Reset
)

// cutState is a cut in force; restored is closed by Restore.
type cutState struct {
	mode     CutMode
	restored chan struct{}
}

// Cut takes the link down in mode until Restore; a Cut while one is in force
// replaces it (a Stall's held data is delivered when the link is restored).
func (p *Proxy) Cut(mode CutMode) {
	next := &cutState{mode: mode, restored: make(chan struct{})}
	if prev := p.cut.Swap(next); prev != nil {
		close(prev.restored)
	}
	if mode == Reset {
		p.mu.Lock()
		for c := range p.conns {
			resetConn(c.client)
			resetConn(c.target)
		}
		p.mu.Unlock()
	}
}

// Restore brings the link up again: held data flows, new connections are
// served. Restoring a link that is up does nothing.
func (p *Proxy) Restore() {
	if prev := p.cut.Swap(nil); prev != nil {
		close(prev.restored)
	}
}

// stalled returns the channel closed when the stall in force ends, or nil when
// data may flow.
func (p *Proxy) stalled() <-chan struct{} {
	if c := p.cut.Load(); c != nil && c.mode == Stall {
		return c.restored
	}
	return nil
}

// resetConn closes c so that its peer gets a reset, not an orderly close.
func resetConn(c *net.TCPConn) {
	_ = c.SetLinger(0)
	c.Close()
}

// Close stops listening, closes every proxied connection (discarding data
// still queued) and returns when all of the proxy's goroutines have exited.
// Calls after the first return nil.
func (p *Proxy) Close() error {
	first := false
	p.closeOnce.Do(func() {
		first = true
		p.cancel()
		p.closeErr = p.ln.Close()
		p.mu.Lock()
		p.closed = true
		for c := range p.conns {
			c.client.Close()
			c.target.Close()
		}
		p.mu.Unlock()
	})
	p.wg.Wait()
	if first {
		return p.closeErr
	}
	return nil
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := p.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.ctx.Err() != nil {
				return
			}
			// E.g. EMFILE: wait a little and retry, unless closing.
			select {
			case <-time.After(backoff):
			case <-p.ctx.Done():
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		p.wg.Add(1)
		go p.handle(c)
	}
}

// handle serves one client connection; it runs the client→target reader
// itself and three more goroutines, and returns when all four have finished.
func (p *Proxy) handle(client *net.TCPConn) {
	defer p.wg.Done()
	if c := p.cut.Load(); c != nil && c.mode == Reset {
		resetConn(client) // a rejected connection
		return
	}
	var d net.Dialer
	t, err := d.DialContext(p.ctx, "tcp4", p.target)
	if err != nil {
		client.Close() // target unreachable or proxy closing: the client sees EOF
		return
	}
	target := t.(*net.TCPConn)
	c := &conn{client: client, target: target}
	c.up = newPipe(p, client, target, true)
	c.down = newPipe(p, target, client, false)
	if !p.track(c) {
		client.Close()
		target.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); c.up.writeLoop() }()
	go func() { defer wg.Done(); c.down.readLoop() }()
	go func() { defer wg.Done(); c.down.writeLoop() }()
	c.up.readLoop()
	wg.Wait()
	client.Close()
	target.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) track(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}
