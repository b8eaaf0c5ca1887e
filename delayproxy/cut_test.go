package delayproxy

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// A stalled link delivers nothing either way until it is restored, then everything, in order,
// as TCP retransmission would after a partition heals.
func TestStallHoldsThenDelivers(t *testing.T) {
	p := startProxy(t, startEcho(t).addr())
	c := dial(t, p.Addr())
	roundTrip(t, c, []byte("up"))
	p.Cut(Stall)
	if _, err := c.Write([]byte("late write")); err != nil {
		t.Fatal(err)
	}
	// A connection opened during the stall waits too.
	c2 := dial(t, p.Addr())
	if _, err := c2.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	for _, conn := range []interface {
		SetReadDeadline(time.Time) error
		Read([]byte) (int, error)
	}{c, c2} {
		conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, err := conn.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read during the stall: %q, %v; want nothing until the deadline", buf[:n], err)
		}
	}
	p.Restore()
	for conn, want := range map[interface {
		SetReadDeadline(time.Time) error
		Read([]byte) (int, error)
	}]string{c: "late write", c2: "new"} {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		got := make([]byte, len(want))
		if _, err := io.ReadFull(conn.(io.Reader), got); err != nil || string(got) != want {
			t.Errorf("after the restore: %q, %v; want %q", got, err, want)
		}
	}
	roundTrip(t, c, []byte("up again"))
}

// A reset link closes its connections with a reset and refuses new ones until restored; nothing
// sent is delivered later.
func TestResetClosesAndRefuses(t *testing.T) {
	baseline := runtime.NumGoroutine()
	s := startEcho(t)
	p := startProxy(t, s.addr())
	c := dial(t, p.Addr())
	roundTrip(t, c, []byte("up"))
	p.Cut(Reset)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 4)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read on a connection the cut reset: %v, want ECONNRESET", err)
	}
	// The proxy's listener accepts, then resets: the reset can reach the client while it is still
	// connecting, or at its first write or read; either way nothing is echoed and nothing hangs.
	if c2, err := net.Dial("tcp4", p.Addr()); !errors.Is(err, syscall.ECONNRESET) {
		if err != nil {
			t.Fatalf("a connection opened during the cut: %v, want a reset", err)
		}
		defer c2.Close()
		c2.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, werr := c2.Write([]byte("refused"))
		n, rerr := c2.Read(make([]byte, 4))
		if n > 0 || rerr == nil || errors.Is(rerr, os.ErrDeadlineExceeded) {
			t.Errorf("a connection opened during the cut: write %v, read %d bytes, %v; want it reset, not served", werr, n, rerr)
		}
	}
	p.Restore()
	roundTrip(t, dial(t, p.Addr()), []byte("up again"))
	p.Close()
	s.close()
	waitGoroutines(t, baseline)
}
