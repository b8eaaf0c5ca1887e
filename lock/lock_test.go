package lock_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/delayproxy"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
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

// extension checks what an Extender must do: a lease extended before it expires keeps the lock
// past its first TTL with its deadline moved on, and one that expired or was released is not
// extended (ErrNotHeld), nor is its old deadline moved.
func extension(t *testing.T, b lock.Backend, addrs []string) {
	ctx := context.Background()
	ttl := 500 * time.Millisecond
	a, c := newLocker(t, b, addrs, ttl), newLocker(t, b, addrs, ttl)
	ext, ok := a.(lock.Extender)
	if !ok {
		t.Fatalf("%s's Locker is not an Extender", b)
	}
	l, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := l.Deadline
	// Three extensions 300 ms apart hold the lock for 900 ms, well past the first TTL.
	for i := range 3 {
		time.Sleep(300 * time.Millisecond)
		if l, err = ext.Extend(ctx, l); err != nil {
			t.Fatalf("extension %d: %v", i+1, err)
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err = c.Acquire(short)
		cancel()
		if !errors.Is(err, lock.ErrNotAcquired) {
			t.Fatalf("another client after extension %d: %v, want ErrNotAcquired", i+1, err)
		}
	}
	if !l.Deadline.After(first.Add(800 * time.Millisecond)) {
		t.Errorf("deadline moved from %v to %v after 900 ms of extensions", first, l.Deadline)
	}
	if err := a.Release(ctx, l); err != nil {
		t.Fatal(err)
	}
	if got, err := ext.Extend(ctx, l); !errors.Is(err, lock.ErrNotHeld) || got.Deadline != l.Deadline {
		t.Errorf("extending a released lease: %v (deadline %v, was %v), want ErrNotHeld and no move", err, got.Deadline, l.Deadline)
	}
	if l, err = a.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	lc, err := c.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire after expiry: %v", err)
	}
	if _, err := ext.Extend(ctx, l); !errors.Is(err, lock.ErrNotHeld) {
		t.Errorf("extending an expired lease another client holds now: %v, want ErrNotHeld", err)
	}
	if err := c.Release(ctx, lc); err != nil {
		t.Errorf("the holder's release after a refused extension: %v", err)
	}
}

func TestRedisSingle(t *testing.T) {
	addrs := lockNodes(t, 1)
	first, later := exclusion(t, lock.RedisSingle, addrs)
	if first.Token == 0 || later.Token <= first.Token {
		t.Errorf("fencing tokens %d then %d: want positive and increasing", first.Token, later.Token)
	}
	extension(t, lock.RedisSingle, addrs)
}

func TestRedlock(t *testing.T) {
	addrs := lockNodes(t, 3)
	first, later := exclusion(t, lock.Redlock, addrs)
	if first.Token != 0 || later.Token != 0 {
		t.Errorf("Redlock returned tokens %d, %d: it has none to give", first.Token, later.Token)
	}
	extension(t, lock.Redlock, addrs)
}

// TestEveryDriverExtendsOrSaysWhy: --extend is refused with a reason exactly for the backends
// whose Locker is no Extender.
func TestEveryDriverExtendsOrSaysWhy(t *testing.T) {
	for _, d := range lock.Drivers {
		if d.External != "" {
			continue // its lock, and whether it extends, is the client program's
		}
		l, err := lock.New(lock.Config{Backend: d.Name, Addrs: []string{"127.0.0.1:1"}, TTL: 2 * time.Second})
		if err != nil {
			// etcd, ZooKeeper and PostgreSQL connect when opened; they must say why instead.
			if d.CheckExtend() == nil {
				t.Errorf("%s: opening failed (%v), and CheckExtend does not refuse", d.Name, err)
			}
			continue
		}
		_, isExtender := l.(lock.Extender)
		l.Close()
		if refusal := d.CheckExtend(); isExtender == (refusal != nil) {
			t.Errorf("%s: Extender %v, CheckExtend %v", d.Name, isExtender, refusal)
		}
	}
}

func TestRedisSentinel(t *testing.T) {
	_, c := clustertest.StartKind(t, cluster.KindSentinel, 2, cluster.NoPersistence)
	var addrs []string
	for _, s := range c.Sentinels() {
		addrs = append(addrs, s.Addr)
	}
	// The Sentinels name the primary by its container address; clients dial its 127.0.0.1 port.
	dial := map[string]string{}
	for _, n := range append(c.LockNodes(), c.Sentinels()...) {
		dial[net.JoinHostPort(n.IP, strconv.Itoa(n.Port))] = n.Addr
	}
	ctx := context.Background()
	ttl := 500 * time.Millisecond
	a, err := lock.New(lock.Config{Backend: lock.RedisSentinel, Addrs: addrs, Dial: dial, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	la, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The key is on the primary, n1.
	primary := redis.NewClient(&redis.Options{Addr: c.LockNodes()[0].Addr})
	defer primary.Close()
	if got, err := primary.Get(ctx, "locktest-lock").Result(); err != nil || got != la.Owner {
		t.Errorf("lock key on the primary: %q, %v; want %q", got, err, la.Owner)
	}
	if err := a.Release(ctx, la); err != nil {
		t.Fatal(err)
	}
	lb, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if la.Token == 0 || lb.Token <= la.Token {
		t.Errorf("tokens %d then %d: want positive and increasing", la.Token, lb.Token)
	}
}

// sessionLock checks a session-based lock (etcd, ZooKeeper): one holder at a time, a waiter gets
// the lock when it is released, and when the holder's lock disappears behind its back (as when its
// session expires) the next holder gets a higher token and the old holder's release frees nothing.
// Unlike a Redis lease, the lock does not expire while its client is alive: the session is kept
// alive in the background.
func sessionLock(t *testing.T, b lock.Backend, addrs []string, ttl time.Duration, lose func(lock.Lease)) {
	ctx := context.Background()
	a, c := newLocker(t, b, addrs, ttl), newLocker(t, b, addrs, ttl)
	la, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if la.Token == 0 {
		t.Errorf("%s lease has no token", b)
	}
	if until := time.Until(la.Deadline); until <= 0 || until > ttl {
		t.Errorf("validity left %v, want within (0, %v]", until, ttl)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = c.Acquire(short)
	cancel()
	if !errors.Is(err, lock.ErrNotAcquired) {
		t.Fatalf("second client while the lock is held: %v, want ErrNotAcquired", err)
	}
	// Held for longer than the TTL: the session keeps it.
	time.Sleep(ttl + 500*time.Millisecond)
	short, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = c.Acquire(short)
	cancel()
	if !errors.Is(err, lock.ErrNotAcquired) {
		t.Fatalf("lock taken while its holder's session is alive: %v", err)
	}
	// A waiter is woken by the release.
	lc := wokenByRelease(t, ctx, c, a, la)
	// c's lock vanishes; a takes it with a higher token; c's late release must not free it.
	lose(lc)
	la2 := takenOver(t, ctx, a, c, lc, "the holder lost its lock")
	if err := a.Release(ctx, la2); err != nil {
		t.Errorf("release: %v", err)
	}
}

func TestEtcd(t *testing.T) {
	_, c := clustertest.StartKind(t, cluster.KindEtcd, 3, "")
	var addrs []string
	for _, n := range c.LockNodes() {
		addrs = append(addrs, n.Addr)
	}
	admin, err := clientv3.New(clientv3.Config{Endpoints: addrs, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	sessionLock(t, lock.Etcd, addrs, 2*time.Second, func(l lock.Lease) {
		// What the lease's expiry does: its key is deleted.
		resp, err := admin.Get(context.Background(), "/locktest-lock/", clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range resp.Kvs {
			if uint64(kv.CreateRevision) == l.Token {
				if _, err := admin.Delete(context.Background(), string(kv.Key)); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("no lock key with create revision %d", l.Token)
	})
}

func TestZooKeeper(t *testing.T) {
	_, c := clustertest.StartKind(t, cluster.KindZooKeeper, 3, "")
	var addrs []string
	for _, n := range c.LockNodes() {
		addrs = append(addrs, n.Addr)
	}
	admin, _, err := zk.Connect(addrs, 5*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	sessionLock(t, lock.ZooKeeper, addrs, 2*time.Second, func(l lock.Lease) {
		// What the session's expiry does: its ephemeral znode is deleted.
		_, st, err := admin.Exists(l.Owner)
		if err != nil || st == nil || uint64(st.Czxid) != l.Token {
			t.Fatalf("lock znode %s: %+v, %v; want czxid %d", l.Owner, st, err, l.Token)
		}
		if err := admin.Delete(l.Owner, -1); err != nil {
			t.Fatal(err)
		}
	})
}

// A release whose answer is lost must not leave the lock taken for good. The client's Delete is
// held on the wire, its connection is then reset (the request never reaches the server), and the
// client reconnects to the same session, whose ephemeral znode survives at the head of the queue:
// what a short drop-mode cut did in the kleppmann runs, stalling every client for the rest of the
// run. The client's next acquisition must remove that znode and get the lock.
func TestZooKeeperReleaseLostOnTheWire(t *testing.T) {
	_, c := clustertest.StartKind(t, cluster.KindZooKeeper, 1, "")
	addr := c.LockNodes()[0].Addr
	admin, _, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	wire, err := delayproxy.Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer wire.Close()
	ctx := context.Background()
	// A session timeout of 4 s outlives the cut and the client's reconnection (≤1 s back-off).
	a := newLocker(t, lock.ZooKeeper, []string{wire.Addr()}, 4*time.Second)
	l, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}

	wire.SetDelay(time.Minute, 0) // the Delete is read by the proxy and held
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err = a.Release(short, l)
	cancel()
	if err == nil || errors.Is(err, lock.ErrNotHeld) {
		t.Fatalf("release with its request held on the wire: %v, want an unknown outcome", err)
	}
	wire.Cut(delayproxy.Reset) // the held Delete goes with the connection, never sent
	wire.SetDelay(0, 0)
	wire.Restore()
	if there, _, err := admin.Exists(l.Owner); err != nil || !there {
		t.Fatalf("the fault did not happen as designed: znode %s after the lost release: there %v, %v", l.Owner, there, err)
	}

	// The client is reconnecting (its library waits a second before it tries the only server
	// again, and fails what was asked meanwhile): retry, as a worker does, within a few seconds.
	soon, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var l2 lock.Lease
	for {
		if l2, err = a.Acquire(soon); err == nil {
			break
		}
		if soon.Err() != nil {
			t.Fatalf("acquire after a lost release (the old znode heads the queue): %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if there, _, err := admin.Exists(l.Owner); err != nil || there {
		t.Errorf("the lost release's znode %s: there %v, %v; want it removed", l.Owner, there, err)
	}
	if err := a.Release(ctx, l2); err != nil {
		t.Fatal(err)
	}
	// And the lock is free for others.
	b := newLocker(t, lock.ZooKeeper, []string{addr}, 4*time.Second)
	free, cancelFree := context.WithTimeout(ctx, 5*time.Second)
	defer cancelFree()
	lb, err := b.Acquire(free)
	if err != nil {
		t.Fatalf("another client after the recovered release: %v", err)
	}
	if err := b.Release(ctx, lb); err != nil {
		t.Fatal(err)
	}
}

// TestPostgres checks the advisory lock on a real server: one holder at a time, held for as long
// as its session lives (no lease), a waiter gets it on release, a lock lost with its session
// (terminated by the server) leaves a release that is certainly ErrNotHeld and a next holder with
// a higher token, and tokens keep growing across a kill -9 and restart of the server, which also
// frees the lock behind its holder.
func TestPostgres(t *testing.T) {
	eng, c := clustertest.StartKind(t, cluster.KindPostgres, 1, "")
	node := c.LockNodes()[0]
	ctx := context.Background()
	ttl := 4 * time.Second // only sets the statement timeout (TTL/20)
	a, b := newLocker(t, lock.Postgres, []string{node.Addr}, ttl), newLocker(t, lock.Postgres, []string{node.Addr}, ttl)
	host, port, _ := net.SplitHostPort(node.Addr)
	admin, err := pgx.Connect(ctx, "host="+host+" port="+port+" user=locktest dbname=locktest sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	notAcquired := func(what string) {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := b.Acquire(short); !errors.Is(err, lock.ErrNotAcquired) {
			t.Fatalf("%s: second client got %v, want ErrNotAcquired", what, err)
		}
	}

	la, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if la.Token == 0 || time.Until(la.Deadline) < 24*time.Hour {
		t.Errorf("lease %+v: want a token and no deadline in sight (no lease)", la)
	}
	notAcquired("while held")
	time.Sleep(ttl + 500*time.Millisecond) // no lease: nothing expires while the session lives
	notAcquired("after a TTL")

	lb := wokenByRelease(t, ctx, b, a, la)

	// The server ends b's session (as its TCP keepalives or idle_session_timeout would): the lock
	// is freed behind b's back.
	var n int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminate the holder's session: %d session(s), %v", n, err)
	}
	la2 := takenOver(t, ctx, a, b, lb, "the holder lost its session")
	notAcquired("the lost lock's release freed the new holder's")

	// kill -9 and restart while a holds the lock: the restart frees it, b takes it with a higher
	// token (it was committed with a WAL flush before it was handed out), and a's release is
	// certainly ErrNotHeld (its session is gone).
	if err := nemesis.NewKill(eng, true, node).Inject(ctx); err != nil {
		t.Fatalf("kill and restart: %v", err)
	}
	lb2 := takenOver(t, ctx, b, a, la2, "a kill -9 and restart of the server")
	if err := b.Release(ctx, lb2); err != nil {
		t.Errorf("release: %v", err)
	}
	la3, err := a.Acquire(ctx)
	if err != nil || la3.Token <= lb2.Token {
		t.Errorf("acquire after all that: token %d (after %d), %v", la3.Token, lb2.Token, err)
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

func TestNoLockNeverExcludes(t *testing.T) {
	l := newLocker(t, lock.NoLock, nil, time.Second)
	a, err1 := l.Acquire(context.Background())
	b, err2 := l.Acquire(context.Background())
	if err1 != nil || err2 != nil || a.Owner == b.Owner {
		t.Errorf("nolock: %v %v, owners %q %q: want two distinct leases at once", err1, err2, a.Owner, b.Owner)
	}
}

func TestDriverFor(t *testing.T) {
	if _, err := lock.DriverFor("nope"); err == nil || !strings.Contains(err.Error(), "redlock") {
		t.Errorf("unknown backend: %v, want an error listing the names", err)
	}
	if _, err := lock.New(lock.Config{Backend: "nope", TTL: time.Second}); err == nil {
		t.Error("New accepted an unknown backend")
	}
	for _, d := range lock.Drivers {
		if got, err := lock.DriverFor(d.Name); err != nil || got != d {
			t.Errorf("DriverFor(%q) = %v, %v", d.Name, got, err)
		}
		if err := d.CheckTTL(0); err == nil {
			t.Errorf("%s accepts a TTL of 0", d.Name)
		}
		// Every driver but nolock refuses to start without its servers, rather than dialling nothing.
		if _, err := lock.New(lock.Config{Backend: d.Name, TTL: 5 * time.Second}); (err == nil) != (d.Name == lock.NoLock) {
			t.Errorf("%s with no addresses: %v", d.Name, err)
		}
	}
}

// wokenByRelease has waiter wait for the lock while holder holds it with lease held, releases it,
// and returns the waiter's lease, whose token must be the higher.
func wokenByRelease(t *testing.T, ctx context.Context, waiter, holder lock.Locker, held lock.Lease) lock.Lease {
	t.Helper()
	got := make(chan lock.Lease, 1)
	go func() {
		l, err := waiter.Acquire(ctx)
		if err != nil {
			t.Errorf("waiting acquire: %v", err)
		}
		got <- l
	}()
	time.Sleep(200 * time.Millisecond)
	if err := holder.Release(ctx, held); err != nil {
		t.Fatalf("release: %v", err)
	}
	l := <-got
	if l.Token <= held.Token {
		t.Errorf("tokens %d then %d: want increasing", held.Token, l.Token)
	}
	return l
}

// takenOver has next acquire the lock old lost (after what happened), and checks that next's
// token is the higher and that old's late release of its lost lease certainly had no effect.
func takenOver(t *testing.T, ctx context.Context, next, old lock.Locker, lost lock.Lease, after string) lock.Lease {
	t.Helper()
	l, err := next.Acquire(ctx)
	if err != nil {
		t.Fatalf("acquire after %s: %v", after, err)
	}
	if l.Token <= lost.Token {
		t.Errorf("tokens %d then %d after %s: want increasing", lost.Token, l.Token, after)
	}
	if err := old.Release(ctx, lost); !errors.Is(err, lock.ErrNotHeld) {
		t.Errorf("release of the lease lost to %s: %v, want ErrNotHeld", after, err)
	}
	return l
}
