package delayproxy

import (
	"net"
	"sync"
	"time"
)

// chunk is data read from a source, waiting to be written to a destination.
type chunk struct {
	data    []byte
	release time.Time // not before this time; zero means as soon as it reaches the queue head
	// held, if set, is closed when the stall the chunk was read under ends: it
	// is not written before that.
	held <-chan struct{}
}

// pipe is one direction of a proxied connection. A reader goroutine
// (readLoop) reads chunks from src; a writer goroutine (writeLoop) writes
// queued chunks to dst in FIFO order, each at its release time.
type pipe struct {
	p        *Proxy
	src, dst *net.TCPConn
	toTarget bool

	wake  chan struct{} // cap 1: the writer has something to look at
	space chan struct{} // cap 1: the writer freed queue space

	mu      sync.Mutex
	q       []chunk
	queued  int  // bytes charged for q and the chunk being written
	maxSeen int  // high-water mark of queued (for tests)
	pending int  // chunks in q plus the one being written by the writer
	eof     bool // the reader has finished
	broken  bool // a write to dst failed: discard everything from now on
}

func newPipe(p *Proxy, src, dst *net.TCPConn, toTarget bool) *pipe {
	return &pipe{
		p: p, src: src, dst: dst, toTarget: toTarget,
		wake:  make(chan struct{}, 1),
		space: make(chan struct{}, 1),
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (pp *pipe) delay() time.Duration {
	d := pp.p.delay.Load()
	if pp.toTarget {
		return d.toTarget
	}
	return d.fromTarget
}

// readLoop reads chunks from src until end of stream (or any read error,
// including the proxy closing the socket), then tells the writer.
func (pp *pipe) readLoop() {
	buf := make([]byte, readBufSize)
	for {
		n, err := pp.src.Read(buf)
		if n > 0 && !pp.send(buf[:n]) {
			break
		}
		if err != nil {
			break
		}
	}
	pp.mu.Lock()
	pp.eof = true
	pp.mu.Unlock()
	signal(pp.wake)
}

// send hands one chunk, just read, to the destination: directly in
// pass-through, otherwise through the queue. It blocks while the queue is
// full. It returns false only if the proxy is closing.
func (pp *pipe) send(b []byte) bool {
	d := pp.delay()
	var release time.Time
	if d > 0 {
		release = time.Now().Add(d) // read time + delay (taken after the read: never early)
	}
	held := pp.p.stalled()
	pp.mu.Lock()
	if pp.broken {
		pp.mu.Unlock()
		return true // dst is gone: discard
	}
	if d == 0 && held == nil && pp.pending == 0 {
		// Pass-through fast path. Only this goroutine adds to the queue, so
		// with pending == 0 the writer is idle and cannot write concurrently:
		// writing here keeps the order and avoids a copy and a hand-off.
		pp.mu.Unlock()
		if _, err := pp.dst.Write(b); err != nil {
			pp.mu.Lock()
			pp.broken = true
			pp.mu.Unlock()
			signal(pp.wake)
		}
		return true
	}
	cost := len(b) + chunkOverhead
	for pp.queued > 0 && pp.queued+cost > pp.p.maxQueued {
		pp.mu.Unlock()
		select {
		case <-pp.space:
		case <-pp.p.ctx.Done():
			return false
		}
		pp.mu.Lock()
		if pp.broken {
			pp.mu.Unlock()
			return true
		}
	}
	data := make([]byte, len(b))
	copy(data, b)
	pp.q = append(pp.q, chunk{data: data, release: release, held: held})
	pp.queued += cost
	pp.maxSeen = max(pp.maxSeen, pp.queued)
	pp.pending++
	pp.mu.Unlock()
	signal(pp.wake)
	return true
}

// writeLoop writes queued chunks to dst in order, each no earlier than its
// release time. When the reader has finished and the queue is empty it
// half-closes dst and returns.
func (pp *pipe) writeLoop() {
	done := pp.p.ctx.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		pp.mu.Lock()
		for len(pp.q) == 0 {
			if pp.broken {
				pp.mu.Unlock()
				return
			}
			if pp.eof {
				pp.mu.Unlock()
				pp.dst.CloseWrite() // propagate end of stream after all data
				return
			}
			pp.mu.Unlock()
			select {
			case <-pp.wake:
			case <-done:
				return
			}
			pp.mu.Lock()
		}
		c := pp.q[0]
		pp.q[0] = chunk{}
		pp.q = pp.q[1:]
		pp.mu.Unlock()

		if c.held != nil {
			select {
			case <-c.held:
			case <-done:
				return
			}
		}
		if !c.release.IsZero() {
			if wait := time.Until(c.release); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-done:
					return
				}
			}
		}
		_, err := pp.dst.Write(c.data)

		pp.mu.Lock()
		if err != nil {
			// dst's peer is gone: drop the queue; the reader discards from now on.
			pp.broken = true
			pp.q = nil
			pp.queued = 0
			pp.pending = 0
			pp.mu.Unlock()
			signal(pp.space)
			return
		}
		pp.queued -= len(c.data) + chunkOverhead
		pp.pending--
		pp.mu.Unlock()
		signal(pp.space)
	}
}
