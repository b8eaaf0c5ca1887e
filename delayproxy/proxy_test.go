package delayproxy

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestStartValidatesTarget(t *testing.T) {
	for _, target := range []string{"10.0.0.1:6379", "example.com:6379", "127.0.0.2:6379", "0.0.0.0:6379", "[::1]:6379", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:x"} {
		if p, err := Start(target); err == nil {
			p.Close()
			t.Errorf("Start(%q) succeeded, want error", target)
		}
	}
	s := startEcho(t)
	_, port, _ := net.SplitHostPort(s.addr())
	p := startProxy(t, "localhost:"+port)
	host, _, err := net.SplitHostPort(p.Addr())
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("Addr() = %q, want 127.0.0.1:port", p.Addr())
	}
	roundTrip(t, dial(t, p.Addr()), []byte("via localhost"))
}

func TestPassThroughEcho(t *testing.T) {
	s := startEcho(t)
	p := startProxy(t, s.addr())
	if to, from := p.Delay(); to != 0 || from != 0 {
		t.Fatalf("initial Delay() = %v, %v; want 0, 0", to, from)
	}
	c := dial(t, p.Addr())
	for i := range 100 {
		roundTrip(t, c, []byte(fmt.Sprintf("message %d", i)))
	}
}

func TestManyConcurrentConnections(t *testing.T) {
	s := startEcho(t)
	p := startProxy(t, s.addr())
	const conns, trips = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp4", p.Addr())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			for j := range trips {
				msg := bytes.Repeat([]byte{byte(i), byte(j)}, 1+(i*j)%3000)
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("conn %d trip %d: echo mismatch", i, j)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// streamEcho writes payload through c while concurrently reading the echo,
// and checks the echo is intact and in order.
func streamEcho(t *testing.T, c *net.TCPConn, payload []byte) {
	t.Helper()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		werr <- err
	}()
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("payload corrupted or reordered")
	}
}

func TestLargePayload(t *testing.T) {
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	s := startEcho(t)
	p := startProxy(t, s.addr())

	t.Run("pass-through", func(t *testing.T) {
		streamEcho(t, dial(t, p.Addr()), payload)
	})
	t.Run("delayed", func(t *testing.T) {
		// 1 MiB is at least 32 chunks per direction. If chunks were delayed
		// one after another this would take over 32 s; with per-chunk release
		// times it takes about 2 × 500 ms.
		p.SetDelay(500*time.Millisecond, 500*time.Millisecond)
		defer p.SetDelay(0, 0)
		start := time.Now()
		streamEcho(t, dial(t, p.Addr()), payload)
		el := time.Since(start)
		t.Logf("1 MiB echo with 500ms each way: %v", el)
		if el < time.Second {
			t.Errorf("1 MiB echo took %v, want >= 1s", el)
		}
		if el > 10*time.Second {
			t.Errorf("1 MiB echo took %v: delayed chunks are being serialised", el)
		}
	})
}

func TestDelay(t *testing.T) {
	s := startEcho(t)
	p := startProxy(t, s.addr())
	c := dial(t, p.Addr())
	msg := []byte("ping")
	const d = 300 * time.Millisecond

	for _, tc := range []struct {
		name     string
		to, from time.Duration
	}{
		{"to-target", d, 0},
		{"from-target", 0, d},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.SetDelay(tc.to, tc.from)
			if to, from := p.Delay(); to != tc.to || from != tc.from {
				t.Fatalf("Delay() = %v, %v; want %v, %v", to, from, tc.to, tc.from)
			}
			for range 3 {
				if rt := roundTrip(t, c, msg); rt < d || rt > 5*time.Second {
					t.Errorf("round trip %v, want in [%v, 5s]", rt, d)
				}
			}
		})
	}
	t.Run("both", func(t *testing.T) {
		p.SetDelay(d, d)
		if rt := roundTrip(t, c, msg); rt < 2*d || rt > 5*time.Second {
			t.Errorf("round trip %v, want in [%v, 5s]", rt, 2*d)
		}
	})
	t.Run("healed", func(t *testing.T) {
		p.SetDelay(0, 0)
		for range 3 {
			if rt := roundTrip(t, c, msg); rt >= 250*time.Millisecond {
				t.Errorf("round trip after SetDelay(0,0) = %v, want < 250ms", rt)
			}
		}
	})
	t.Run("negative-is-zero", func(t *testing.T) {
		p.SetDelay(-time.Second, -1)
		if to, from := p.Delay(); to != 0 || from != 0 {
			t.Fatalf("Delay() = %v, %v; want 0, 0", to, from)
		}
		roundTrip(t, c, msg)
	})
}

// Chunks are released each at its own time: messages written 5 ms apart
// under a 500 ms delay each take >= 500 ms, yet all of them arrive within
// about 500 ms + 40 × 5 ms, not 40 × 500 ms.
func TestDelayedChunksInFlightTogether(t *testing.T) {
	s := startEcho(t)
	p := startProxy(t, s.addr())
	c := dial(t, p.Addr())
	c.SetDeadline(time.Now().Add(60 * time.Second))
	const n, d = 40, 500 * time.Millisecond
	p.SetDelay(d, 0)
	sent := make(chan time.Time, n) // write time of each message, in order
	go func() {
		for i := range n {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(i))
			sent <- time.Now()
			if _, err := c.Write(b[:]); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	start := time.Now()
	var b [8]byte
	for i := range n {
		if _, err := io.ReadFull(c, b[:]); err != nil {
			t.Fatal(err)
		}
		got := binary.BigEndian.Uint64(b[:])
		if got != uint64(i) {
			t.Fatalf("message %d arrived in position %d", got, i)
		}
		if lat := time.Since(<-sent); lat < d {
			t.Errorf("message %d: latency %v < delay %v", i, lat, d)
		}
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("%d messages took %v: delayed chunks are being serialised", n, el)
	}
}

func TestOrderPreservedWhenDelayDrops(t *testing.T) {
	s := startEcho(t)
	p := startProxy(t, s.addr())
	c := dial(t, p.Addr())
	c.SetDeadline(time.Now().Add(60 * time.Second))
	p.SetDelay(500*time.Millisecond, 500*time.Millisecond)

	const n = 400
	go func() {
		for i := range n {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(i))
			if _, err := c.Write(b[:]); err != nil {
				return
			}
			if i == n/2 {
				p.SetDelay(0, 0) // drop mid-stream, with data queued in both directions
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var b [8]byte
	for i := range n {
		if _, err := io.ReadFull(c, b[:]); err != nil {
			t.Fatalf("after %d messages: %v", i, err)
		}
		if got := binary.BigEndian.Uint64(b[:]); got != uint64(i) {
			t.Fatalf("got message %d, want %d: reordered", got, i)
		}
	}
}

// SetDelay may be called concurrently with traffic in both directions.
func TestSetDelayWhileActive(t *testing.T) {
	s := startEcho(t)
	p := startProxy(t, s.addr())
	stop := make(chan struct{})
	var flips sync.WaitGroup
	flips.Add(1)
	go func() {
		defer flips.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p.SetDelay(time.Duration(i%3)*time.Millisecond, time.Duration(i%5)*time.Millisecond)
			p.Delay()
			time.Sleep(200 * time.Microsecond)
		}
	}()
	payload := make([]byte, 2<<20)
	rand.Read(payload)
	var wg sync.WaitGroup
	for range 4 {
		c := dial(t, p.Addr())
		wg.Add(1)
		go func() {
			defer wg.Done()
			streamEcho(t, c, payload)
		}()
	}
	wg.Wait()
	close(stop)
	flips.Wait()
}

// End of stream from the client is propagated to the target after the
// delayed data, and the target's close reaches the client after its data.
func TestHalfClose(t *testing.T) {
	s := startEcho(t) // echoes until EOF, then closes
	p := startProxy(t, s.addr())
	for _, d := range []time.Duration{0, 200 * time.Millisecond} {
		t.Run(d.String(), func(t *testing.T) {
			p.SetDelay(d, d)
			c := dial(t, p.Addr())
			c.SetDeadline(time.Now().Add(20 * time.Second))
			start := time.Now()
			msg := bytes.Repeat([]byte("half-close "), 10000)
			go func() {
				c.Write(msg)
				c.CloseWrite()
			}()
			got, err := io.ReadAll(c) // until the proxied EOF
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("got %d bytes, want %d", len(got), len(msg))
			}
			if el := time.Since(start); el < 2*d {
				t.Errorf("EOF after %v, want >= %v", el, 2*d)
			}
			c.Close()
			waitCond(t, "connection teardown", func() bool { return p.numConns() == 0 })
		})
	}
}

// The target writes and closes at once: the client gets the data, delayed,
// and then EOF.
func TestTargetClosesFirst(t *testing.T) {
	s := startServer(t, func(c net.Conn) { c.Write([]byte("bye")) })
	p := startProxy(t, s.addr())
	const d = 300 * time.Millisecond
	p.SetDelay(0, d)
	start := time.Now()
	c := dial(t, p.Addr())
	c.SetDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "bye" {
		t.Fatalf("got %q, want %q", got, "bye")
	}
	if el := time.Since(start); el < d {
		t.Errorf("data and EOF after %v, want >= %v", el, d)
	}
	c.Close()
	waitCond(t, "connection teardown", func() bool { return p.numConns() == 0 })
}

// Scenario K2: the client writes and gives up (closes) at once; its write
// still reaches the target, late.
func TestClientCloseStillDeliversDelayedWrite(t *testing.T) {
	type arrival struct {
		data []byte
		at   time.Time
	}
	arrived := make(chan arrival, 1)
	s := startServer(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(20 * time.Second))
		b, _ := io.ReadAll(c)
		arrived <- arrival{b, time.Now()}
	})
	p := startProxy(t, s.addr())
	const d = 300 * time.Millisecond
	p.SetDelay(d, 0)
	c := dial(t, p.Addr())
	start := time.Now()
	if _, err := c.Write([]byte("SET lock token")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case a := <-arrived:
		if string(a.data) != "SET lock token" {
			t.Fatalf("target got %q", a.data)
		}
		if el := a.at.Sub(start); el < d {
			t.Errorf("write arrived after %v, want >= %v", el, d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("delayed write never arrived")
	}
	waitCond(t, "connection teardown", func() bool { return p.numConns() == 0 })
}

func TestCloseWithPendingDataNoLeak(t *testing.T) {
	s := startEcho(t)
	baseline := runtime.NumGoroutine()
	p, err := Start(s.addr())
	if err != nil {
		t.Fatal(err)
	}
	p.SetDelay(3*time.Second, 3*time.Second)
	const n = 20
	clients := make([]*net.TCPConn, n)
	for i := range clients {
		clients[i] = dial(t, p.Addr())
		// Queue data in the to-target direction, held for 3 s.
		if _, err := clients[i].Write(make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
	}
	waitCond(t, "all connections proxied", func() bool { return p.numConns() == n })
	waitCond(t, "data queued", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for c := range p.conns {
			c.up.mu.Lock()
			q := c.up.pending
			c.up.mu.Unlock()
			if q == 0 {
				return false
			}
		}
		return true
	})
	start := time.Now()
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Close took %v with pending delayed data", el)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for i, c := range clients {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("client %d: read after Close = %v, want EOF or reset", i, err)
		}
		c.Close()
	}
	if c, err := net.DialTimeout("tcp4", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("dial after Close succeeded")
	}
	waitGoroutines(t, baseline)
}

func TestNoLeakAfterNormalUse(t *testing.T) {
	s := startEcho(t)
	baseline := runtime.NumGoroutine()
	p, err := Start(s.addr())
	if err != nil {
		t.Fatal(err)
	}
	p.SetDelay(10*time.Millisecond, 10*time.Millisecond)
	for range 10 {
		c, err := net.Dial("tcp4", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c, []byte("hello"))
		c.Close()
	}
	waitCond(t, "connections torn down", func() bool { return p.numConns() == 0 })
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	waitGoroutines(t, baseline)
}

func TestRefusedTarget(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused

	baseline := runtime.NumGoroutine()
	p, err := Start(target)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c, err := net.Dial("tcp4", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read = %v: client connection not closed when the target refused", err)
		}
		c.Close()
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	waitGoroutines(t, baseline)
}

// With the delay far above the time to fill the queue, the reader must
// stop at the cap instead of buffering everything the client sends.
func TestBackpressureCapsQueue(t *testing.T) {
	const limit = 256 << 10
	s := startEcho(t)
	p, err := start(s.addr(), limit)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetDelay(2*time.Second, 0)

	payload := make([]byte, 48<<20) // more than the kernel can buffer on loopback
	rand.Read(payload)
	c := dial(t, p.Addr())
	c.SetDeadline(time.Now().Add(60 * time.Second))
	var written atomic.Int64
	werr := make(chan error, 1)
	go func() {
		for off := 0; off < len(payload); off += 64 << 10 {
			n, err := c.Write(payload[off:min(off+64<<10, len(payload))])
			written.Add(int64(n))
			if err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	waitCond(t, "connection", func() bool { return p.numConns() == 1 })
	var up *pipe
	p.mu.Lock()
	for c := range p.conns {
		up = c.up
	}
	p.mu.Unlock()
	queued := func() (q, high int) {
		up.mu.Lock()
		defer up.mu.Unlock()
		return up.queued, up.maxSeen
	}
	waitCond(t, "queue to fill", func() bool { q, _ := queued(); return q+readBufSize+chunkOverhead > limit })
	time.Sleep(300 * time.Millisecond) // still well inside the 2 s delay
	q, high := queued()
	t.Logf("client wrote %d bytes; queued %d, high-water %d, cap %d", written.Load(), q, high, limit)
	if high > limit {
		t.Errorf("queue high-water mark %d exceeds cap %d", high, limit)
	}
	if written.Load() <= limit {
		t.Errorf("client wrote only %d bytes: test does not exercise the cap", written.Load())
	}

	// Heal: everything arrives, intact and in order.
	p.SetDelay(0, 0)
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("payload corrupted or reordered")
	}
	_, high = queued()
	if high > limit {
		t.Errorf("queue high-water mark %d exceeds cap %d", high, limit)
	}
}
