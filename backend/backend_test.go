package backend_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/backend"
	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/lock"
)

// TestEveryBackendIsWhole walks the lists: every lock driver is offered as exactly one backend,
// and every backend has what a run asks of it. A backend added with a piece missing fails here,
// not in the middle of a run.
func TestEveryBackendIsWhole(t *testing.T) {
	for _, d := range lock.Drivers {
		n := 0
		for _, b := range backend.All {
			if b.Driver == d {
				n++
			}
		}
		if n != 1 {
			t.Errorf("driver %s is offered by %d backends, want 1", d.Name, n)
		}
	}
	for _, b := range backend.All {
		t.Run(string(b.Name), func(t *testing.T) {
			if got, err := backend.Get(b.Name); err != nil || got != b {
				t.Fatalf("Get(%q) = %v, %v", b.Name, got, err)
			}
			if b.Nodes == nil {
				if n, err := b.NodeCount(3); n != 0 || err != nil {
					t.Errorf("a backend without lock nodes asks for %d (%v)", n, err)
				}
				return
			}
			if !slices.Contains(cluster.Kinds, b.Nodes) {
				t.Errorf("node kind %s is not in cluster.Kinds", b.Nodes)
			}
			n, err := b.NodeCount(0)
			if err != nil || n != b.DefaultNodes || b.Nodes.CheckSize(n) != nil {
				t.Errorf("usual size %d (%v): not a size its nodes accept: %v", n, err, b.Nodes.CheckSize(n))
			}
			if b.Tokens && b.Name == lock.Redlock {
				t.Error("Redlock claims monotonic fencing tokens")
			}
			// A lock in another language comes with the program that runs it, and nothing else does.
			if (b.External != "") != (b.Client != nil) {
				t.Errorf("external lock %q, client program %v", b.External, b.Client)
			}
		})
	}
}

func TestUnknownBackendSaysWhatExists(t *testing.T) {
	_, err := backend.Get("postgress")
	if err == nil || !strings.Contains(err.Error(), strings.Join(backend.Names(), ", ")) {
		t.Errorf("Get of an unknown name: %v, want the list of names", err)
	}
}

func TestNodeCounts(t *testing.T) {
	for _, c := range []struct {
		b         lock.Backend
		requested int
		want      int
		err       string
	}{
		{lock.NoLock, 0, 0, ""},
		{lock.RedisSingle, 0, 1, ""},
		{lock.RedisSingle, 5, 1, ""}, // one node by definition, whatever a matrix asks of the others
		{lock.Redlock, 0, 5, ""},
		{lock.Redlock, 7, 7, ""},
		{lock.RedisSentinel, 0, 2, ""},
		{lock.RedisSentinel, 3, 3, ""},
		{lock.RedisSentinel, 1, 0, "at least 2"},
		{lock.Etcd, 0, 3, ""},
		{lock.Etcd, 5, 5, ""},
		{lock.Etcd, 4, 0, "odd"},
		{lock.ZooKeeper, 2, 0, "odd"},
		{lock.Postgres, 0, 1, ""},
		{lock.Postgres, 3, 1, ""}, // one server, whatever a matrix asks of the others
	} {
		b, err := backend.Get(c.b)
		if err != nil {
			t.Fatal(err)
		}
		n, err := b.NodeCount(c.requested)
		if n != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s.NodeCount(%d) = %d, %v; want %d, error with %q", c.b, c.requested, n, err, c.want, c.err)
		}
	}
}

func TestTokensAndTTLRules(t *testing.T) {
	want := map[lock.Backend]bool{lock.RedisSingle: true, lock.RedisSentinel: true, lock.Etcd: true, lock.ZooKeeper: true, lock.Postgres: true}
	for _, b := range backend.All {
		if b.Tokens != want[b.Name] {
			t.Errorf("%s: Tokens = %v", b.Name, b.Tokens)
		}
	}
	etcd, _ := backend.Get(lock.Etcd)
	zk, _ := backend.Get(lock.ZooKeeper)
	pg, _ := backend.Get(lock.Postgres)
	for _, c := range []struct {
		b   *backend.Backend
		ttl time.Duration
		ok  bool
	}{
		{etcd, 2 * time.Second, true}, {etcd, 1500 * time.Millisecond, false}, {etcd, time.Second, false},
		{zk, time.Second, true}, {zk, 500 * time.Millisecond, false}, {zk, 2 * time.Minute, false},
		// No lease: any positive TTL (it only sets statement timeouts).
		{pg, 500 * time.Millisecond, true}, {pg, 2 * time.Minute, true}, {pg, 0, false},
	} {
		if err := c.b.CheckTTL(c.ttl); (err == nil) != c.ok {
			t.Errorf("%s.CheckTTL(%v) = %v", c.b, c.ttl, err)
		}
	}
}

// --persistence means what each kind of server can do: a setting a server cannot honour fails
// loudly rather than being ignored, and "" is always the kind's default.
func TestPersistenceOnlyWhereItApplies(t *testing.T) {
	accepts := map[lock.Backend][]cluster.Persistence{
		lock.RedisSingle:   {cluster.NoPersistence, cluster.AppendEverySec, cluster.AppendAlways},
		lock.Redlock:       {cluster.NoPersistence, cluster.AppendEverySec, cluster.AppendAlways},
		lock.RedisSentinel: {cluster.NoPersistence, cluster.AppendEverySec, cluster.AppendAlways},
		lock.RedisPy:       {cluster.NoPersistence, cluster.AppendEverySec, cluster.AppendAlways},
		lock.NoLock:        {cluster.NoPersistence, cluster.AppendEverySec, cluster.AppendAlways},
		lock.Etcd:          {cluster.NoFsync, cluster.AppendAlways},
		lock.ZooKeeper:     {cluster.NoFsync, cluster.AppendAlways},
		lock.Postgres:      {cluster.AppendAlways},
	}
	all := []cluster.Persistence{cluster.NoPersistence, cluster.AppendEverySec, cluster.AppendAlways, cluster.NoFsync}
	for _, b := range backend.All {
		want, ok := accepts[b.Name]
		if !ok {
			t.Errorf("backend %s: no expectation in this test", b.Name)
			continue
		}
		k := b.Kind()
		for _, p := range all {
			if err := k.CheckPersistence(p); (err == nil) != slices.Contains(want, p) {
				t.Errorf("%s: persistence %s: %v", b.Name, p, err)
			}
		}
		if err := k.CheckPersistence(""); err != nil {
			t.Errorf("%s refuses its default: %v", b.Name, err)
		}
		if got := k.Persistence(""); got != want[0] {
			t.Errorf("%s's default persistence = %s, want %s", b.Name, got, want[0])
		}
	}
}
