package workload

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/lock"
)

func TestParseWork(t *testing.T) {
	for in, want := range map[string]Work{
		"":           {},
		"50ms":       {50 * time.Millisecond, 50 * time.Millisecond},
		"20ms-200ms": {20 * time.Millisecond, 200 * time.Millisecond},
		"1s-1s":      {time.Second, time.Second},
	} {
		got, err := ParseWork(in)
		if err != nil || got != want {
			t.Errorf("ParseWork(%q) = %v, %v; want %v", in, got, err, want)
			continue
		}
		if back, err := ParseWork(got.String()); err != nil || back != got {
			t.Errorf("ParseWork(%q.String() = %q) = %v, %v", in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"x", "200ms-20ms", "-5ms", "5ms-", "5ms-x"} {
		if _, err := ParseWork(bad); err == nil {
			t.Errorf("ParseWork(%q) accepted", bad)
		}
	}
}

// Each increment's work is drawn from the seed: the same run draws the same times, within range.
func TestWorkDrawIsSeededAndInRange(t *testing.T) {
	w := Work{20 * time.Millisecond, 200 * time.Millisecond}
	a, b := rand.New(rand.NewPCG(7, 1)), rand.New(rand.NewPCG(7, 1))
	for range 1000 {
		x, y := w.draw(a), w.draw(b)
		if x != y || x < w.Min || x > w.Max {
			t.Fatalf("draws %v and %v: want equal and within %v", x, y, w)
		}
	}
	if d := (Work{time.Second, time.Second}).draw(a); d != time.Second {
		t.Errorf("fixed work drew %v", d)
	}
}

func TestClientCheck(t *testing.T) {
	driver := func(b lock.Backend) *lock.Driver {
		d, err := lock.DriverFor(b)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ttl := 2 * time.Second
	for _, tt := range []struct {
		c       Client
		backend lock.Backend
		err     string // "" when accepted
	}{
		{Client{}, lock.Etcd, ""},
		{Client{Guard: GuardValidity, GuardMargin: 100 * time.Millisecond, Work: Work{0, time.Second}, Extend: true}, lock.Redlock, ""},
		{Client{Extend: true}, lock.RedisSingle, ""},
		{Client{Extend: true}, lock.RedisSentinel, ""},
		{Client{Extend: true}, lock.Etcd, "keepalive"},
		{Client{Extend: true}, lock.ZooKeeper, "heartbeats"},
		{Client{Extend: true}, lock.Postgres, "no lease"},
		{Client{Extend: true}, lock.NoLock, "no lock"},
		{Client{GuardMargin: time.Second}, lock.Redlock, "needs --guard validity"},
		{Client{Guard: GuardValidity, GuardMargin: ttl}, lock.Redlock, "every write would be skipped"},
		{Client{Guard: GuardValidity, GuardMargin: -1}, lock.Redlock, "negative"},
		{Client{Guard: "maybe"}, lock.Redlock, "unknown guard"},
		{Client{Work: Work{time.Second, time.Millisecond}}, lock.Redlock, "min ≤ max"},
	} {
		err := tt.c.Check(ttl, driver(tt.backend))
		if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%+v on %s: %v, want %q", tt.c, tt.backend, err, tt.err)
		}
	}
}
