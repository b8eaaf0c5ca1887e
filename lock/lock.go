// Package lock puts every lock backend behind one small interface.
//
// A backend hands out leases. A lease says who holds the lock (Owner), the fencing token if the
// backend has monotonic ones (0 if not), and until when the holder may believe it holds the lock
// (Deadline). Whether that belief is safe is exactly what locktest tests.
package lock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/locktest/locktest/internal/named"
)

// Lease is a held lock.
type Lease struct {
	// Owner is unique per acquisition; the backend uses it to release only its own lock.
	Owner string
	// Token is a fencing token that grows with every acquisition, or 0 if the backend has none.
	Token uint64
	// Deadline is when the lease's validity ends by the holder's clock (a Go time with its
	// monotonic reading). After it the holder must not assume it still holds the lock.
	Deadline time.Time
}

// Locker acquires and releases one named lock. A Locker is used by one client at a time.
type Locker interface {
	// Acquire blocks until the lock is held, ctx is done, or the backend gives up. A returned
	// error wrapping ErrNotAcquired means the lock is certainly not held; any other error means
	// the outcome is unknown.
	Acquire(ctx context.Context) (Lease, error)
	// Release gives the lease back. An error wrapping ErrNotHeld means the release certainly had
	// no effect because the lock was no longer this lease's (expired, or taken by another client).
	Release(ctx context.Context, l Lease) error
	// Close releases the backend's connections.
	Close() error
}

var (
	// ErrNotAcquired means an acquisition certainly did not take the lock.
	ErrNotAcquired = errors.New("lock not acquired")
	// ErrNotHeld means a release found the lock no longer held by its lease.
	ErrNotHeld = errors.New("lock no longer held by this lease (expired or taken)")
)

// Backend names a lock implementation (a [Driver]'s Name): the form it takes in flags, files and
// a worker's configuration.
type Backend string

// The backends' names, for code that must refer to one (tests, defaults).
const (
	NoLock        Backend = "nolock"
	RedisSingle   Backend = "redis-single"
	Redlock       Backend = "redlock"
	RedisSentinel Backend = "redis-sentinel"
	Etcd          Backend = "etcd"
	ZooKeeper     Backend = "zookeeper"
	Postgres      Backend = "postgres"
	RedisPy       Backend = "redis-py"
)

// Driver is one lock implementation: everything this package knows about it in one value. Which
// servers it runs on and how many is the backend package's business.
type Driver struct {
	Name Backend
	// Tokens says whether its leases carry fencing tokens meant to be monotonic. Redlock's do not:
	// Kleppmann's point is that it cannot have them, since its nodes share no counter. (Whether a
	// backend's tokens stay monotonic under faults is for a run to show: redis-single's counter
	// restarts with a node that persists nothing, redis-sentinel's can go back on failover.)
	Tokens bool
	// ttlRule, if set, rejects lease times the backend cannot honour (any positive TTL otherwise).
	ttlRule func(time.Duration) error
	// open returns a Locker on cfg (whose TTL has been checked).
	open func(Config) (Locker, error)
	// noNodes says the driver needs no server addresses (nolock).
	noNodes bool
	// noExtend, if set, says why a holder cannot extend this backend's leases (see CheckExtend);
	// when empty, its Locker is an Extender.
	noExtend string
	// SessionLease says its lease is a session the client library renews in the background for
	// as long as the servers hear from it (etcd's keepalives, ZooKeeper's heartbeats): a holder
	// held up in its own code keeps the lock; one cut off from the servers for longer than the
	// TTL loses it while it believes it holds it (E1 and Z1 by the network, not by a pause).
	SessionLease bool
	// External, if set, says that the backend's lock lives in a client program of another
	// language (package backend runs it), and this package has no Locker for it.
	External string
}

// Drivers lists every lock implementation, in the order help texts show them.
var Drivers = []*Driver{
	// The negative control: Acquire always succeeds at once, so clients race freely.
	{Name: NoLock, noNodes: true, noExtend: "it holds no lock to extend", open: func(c Config) (Locker, error) { return newNoLock(c), nil }},
	// SET NX PX on one Redis node, released by a compare-and-delete script.
	{Name: RedisSingle, Tokens: true, open: func(c Config) (Locker, error) { return newRedisSingle(c), nil }},
	// The redis-single lock on whichever node the Sentinels say is the primary, replicated
	// asynchronously to its replicas.
	{Name: RedisSentinel, Tokens: true, open: func(c Config) (Locker, error) { return newRedisSentinel(c), nil }},
	// redsync's Redlock over all lock nodes.
	{Name: Redlock, open: func(c Config) (Locker, error) { return newRedlock(c), nil }},
	// etcd's concurrency.Mutex, one session (lease) per client. Its leases have whole-second TTLs,
	// and the server raises anything below about 1.5 election timeouts (2 s by default).
	{Name: Etcd, Tokens: true, SessionLease: true, noExtend: "the etcd client keeps its session's lease alive by itself (a keepalive every TTL/3) for as long as the client runs", open: func(c Config) (Locker, error) { return newEtcd(c) }, ttlRule: func(ttl time.Duration) error {
		if ttl < 2*time.Second || ttl%time.Second != 0 {
			return fmt.Errorf("etcd session TTLs are whole seconds, at least 2s; got %v", ttl)
		}
		return nil
	}},
	// The ephemeral-sequential-znode lock recipe on a ZooKeeper ensemble. The ensembles locktest
	// starts (tickTime 500 ms) negotiate session timeouts into 1s-60s.
	{Name: ZooKeeper, Tokens: true, SessionLease: true, noExtend: "the ZooKeeper client keeps its session alive by itself (heartbeats) for as long as the client runs", open: func(c Config) (Locker, error) { return newZooKeeper(c) }, ttlRule: func(ttl time.Duration) error {
		if ttl < time.Second || ttl > time.Minute {
			return fmt.Errorf("ZooKeeper session timeouts run from 1s to 60s; got %v", ttl)
		}
		return nil
	}},
	// A PostgreSQL session-level advisory lock, one session per client, the token a counter row
	// updated in the locking transaction. It has no lease: any positive TTL is accepted, and only
	// sets the statement timeout (NodeTimeout, TTL/20 by default).
	// redis-py's Lock (SET NX PX, a Lua release and extend) on one Redis node, in the Python
	// client of clients/python: the example of a client in another language.
	{Name: RedisPy, External: "redis-py's Lock, in the Python client of clients/python", open: func(c Config) (Locker, error) {
		return nil, fmt.Errorf("lock: %s runs in an external client program, not in this process", c.Backend)
	}},
	{Name: Postgres, Tokens: true, noExtend: "an advisory lock has no lease: it is held for as long as its session lives", open: func(c Config) (Locker, error) { return newPostgres(c) }},
}

// DriverFor returns the driver named name, or an error listing the valid names.
func DriverFor(name Backend) (*Driver, error) {
	return named.Find(Drivers, func(d *Driver) Backend { return d.Name }, name, "backend")
}

// CheckTTL says whether ttl is a lease time the driver can honour.
func (d *Driver) CheckTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("lock: TTL must be positive, got %v", ttl)
	}
	if d.ttlRule != nil {
		return d.ttlRule(ttl)
	}
	return nil
}

// Config configures a Locker.
type Config struct {
	Backend Backend
	// Addrs are the lock nodes' addresses (host:port); for RedisSentinel, the Sentinels'.
	Addrs []string
	// Dial maps an address a server gives out (a Sentinel naming the primary by its container
	// address) to the address to dial instead (its port on 127.0.0.1, or a delaying proxy).
	Dial map[string]string
	// Name is the lock's key.
	Name string
	// TTL is the lease time; the lock expires on the server after it.
	TTL time.Duration
	// NodeTimeout bounds one command to one node. Zero means TTL/20, as redsync does.
	NodeTimeout time.Duration
	// RetryDelay is the longest pause between two attempts while the lock is taken; each pause is
	// drawn uniformly from [RetryDelay/4, RetryDelay]. Zero means 20 ms: redsync's default of
	// 50-250 ms leaves the lock idle most of the time and a run would test very little.
	RetryDelay time.Duration
	_          struct{}
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "locktest-lock"
	}
	if c.NodeTimeout == 0 {
		c.NodeTimeout = c.TTL / 20
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = 20 * time.Millisecond
	}
	return c
}

// New returns a Locker for cfg.Backend.
func New(cfg Config) (Locker, error) {
	d, err := DriverFor(cfg.Backend)
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := d.CheckTTL(cfg.TTL); err != nil {
		return nil, err
	}
	if !d.noNodes && len(cfg.Addrs) == 0 {
		return nil, fmt.Errorf("lock: backend %s needs lock node addresses", cfg.Backend)
	}
	return d.open(cfg)
}

// newOwner returns a random owner id: unique per acquisition, so a late release can never delete
// a lock that a later acquisition of the same client took.
func newOwner() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on Linux
	}
	return hex.EncodeToString(b[:])
}
