package lock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/lock"
)

// lockNodes starts n Redis lock nodes for the test.
func lockNodes(t *testing.T, n int) []string {
	t.Helper()
	_, c := clustertest.Start(t, n, cluster.NoPersistence)
	var addrs []string
	for _, node := range c.LockNodes() {
		addrs = append(addrs, node.Addr)
	}
	return addrs
}

func newLocker(t *testing.T, b lock.Backend, addrs []string, ttl time.Duration) lock.Locker {
	t.Helper()
	l, err := lock.New(lock.Config{Backend: b, Addrs: addrs, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// exclusion checks what every real lock must do: one holder at a time, release frees it, a late
// release of an expired lease frees nothing, and an unreleased lease expires after its TTL.
func exclusion(t *testing.T, b lock.Backend, addrs []string) (first, second lock.Lease) {
	ctx := context.Background()
	ttl := 500 * time.Millisecond
	a, c := newLocker(t, b, addrs, ttl), newLocker(t, b, addrs, ttl)

	la, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if until := time.Until(la.Deadline); until <= 0 || until > ttl {
		t.Errorf("validity left %v, want within (0, %v]", until, ttl)
	}
	short, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	_, err = c.Acquire(short)
	cancel()
	if !errors.Is(err, lock.ErrNotAcquired) {
		t.Fatalf("second client while the lock is held: %v, want ErrNotAcquired", err)
	}
	if err := a.Release(ctx, la); err != nil {
		t.Fatalf("release: %v", err)
	}
	lc, err := c.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	// Let c's lease expire without releasing it: a can then take the lock, and c's late release
	// must not free a's lock.
	time.Sleep(ttl + 100*time.Millisecond)
	la2, err := a.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire after expiry: %v", err)
	}
	if err := c.Release(ctx, lc); !errors.Is(err, lock.ErrNotHeld) {
		t.Errorf("late release of an expired lease: %v, want ErrNotHeld", err)
	}
	short, cancel = context.WithTimeout(ctx, 150*time.Millisecond)
	_, err = c.Acquire(short)
	cancel()
	if !errors.Is(err, lock.ErrNotAcquired) {
		t.Errorf("the late release freed someone else's lock: %v", err)
	}
	if err := a.Release(ctx, la2); err != nil {
		t.Errorf("release: %v", err)
	}
	return la, la2
}

func TestRedisSingle(t *testing.T) {
	first, later := exclusion(t, lock.RedisSingle, lockNodes(t, 1))
	if first.Token == 0 || later.Token <= first.Token {
		t.Errorf("fencing tokens %d then %d: want positive and increasing", first.Token, later.Token)
	}
}

func TestRedlock(t *testing.T) {
	first, later := exclusion(t, lock.Redlock, lockNodes(t, 3))
	if first.Token != 0 || later.Token != 0 {
		t.Errorf("Redlock returned tokens %d, %d: it has none to give", first.Token, later.Token)
	}
}

func TestNoLockNeverExcludes(t *testing.T) {
	l := newLocker(t, lock.NoLock, nil, time.Second)
	a, err1 := l.Acquire(context.Background())
	b, err2 := l.Acquire(context.Background())
	if err1 != nil || err2 != nil || a.Owner == b.Owner {
		t.Errorf("nolock: %v %v, owners %q %q: want two distinct leases at once", err1, err2, a.Owner, b.Owner)
	}
}

func TestParseBackend(t *testing.T) {
	if _, err := lock.ParseBackend("nope"); err == nil {
		t.Error("unknown backend accepted")
	}
	for _, b := range lock.Backends {
		if got, err := lock.ParseBackend(string(b)); err != nil || got != b {
			t.Errorf("ParseBackend(%q) = %v, %v", b, got, err)
		}
	}
}
