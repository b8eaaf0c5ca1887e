package lock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/redis/go-redis/v9"
)

// Extender is a Locker whose leases the holder can extend while it works, pushing their expiry
// out by another TTL. Backends whose client library keeps the lease alive by itself (etcd's
// session keepalives, ZooKeeper's session heartbeats) and those without a lease are not
// Extenders; Driver.CheckExtend says why.
type Extender interface {
	// Extend extends l and returns it with its new deadline. An error wrapping ErrNotHeld means
	// the lease was certainly not extended (the lock is no longer l's); any other error means the
	// outcome is unknown, and the holder may count only on l's old deadline.
	Extend(ctx context.Context, l Lease) (Lease, error)
}

// CheckExtend says whether the driver's leases can be extended by the client (--extend), and if
// not, why.
func (d *Driver) CheckExtend() error {
	if d.noExtend != "" {
		return fmt.Errorf("%s cannot extend a lease: %s", d.Name, d.noExtend)
	}
	return nil
}

// compareAndExpire sets the lock key's expiry to a full TTL again, only if it still holds this
// lease's owner: the extension the Redis documentation describes for a single-instance lock.
var compareAndExpire = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)

func (r *redisSingle) Extend(ctx context.Context, l Lease) (Lease, error) {
	// As for an acquisition, the new validity counts from before the request is sent.
	start := time.Now()
	n, err := compareAndExpire.Run(ctx, r.rdb, []string{r.key}, l.Owner, r.ttl.Milliseconds()).Int()
	if err != nil {
		return l, fmt.Errorf("extend: outcome unknown: %w", err)
	}
	if n == 0 {
		return l, ErrNotHeld
	}
	l.Deadline = start.Add(r.ttl)
	return l, nil
}

// Extend is redsync's: every node's key gets a full TTL again if it still holds this lease's
// value, and the lease is extended when a majority did so within the new validity.
func (l *redlock) Extend(ctx context.Context, lease Lease) (Lease, error) {
	m, ok := l.held[lease.Owner]
	if !ok {
		// Released (or never this client's): nothing of it is left to extend.
		return lease, fmt.Errorf("%w: no held lease %q to extend", ErrNotHeld, lease.Owner)
	}
	extended, err := m.ExtendContext(ctx)
	if extended {
		lease.Deadline = m.Until()
		return lease, nil
	}
	// A node that did not answer may have extended its key; a majority that extended too late
	// (redsync's ErrExtendFailed) did extend the keys, though the validity it bought is gone.
	// Either way the keys may live on: unknown. Only nodes that all answered "not yours" leave no
	// doubt.
	var nodeErr *redsync.RedisError
	if errors.As(err, &nodeErr) || errors.Is(err, redsync.ErrExtendFailed) {
		return lease, fmt.Errorf("extend: outcome unknown: %w", err)
	}
	return lease, fmt.Errorf("%w: %v", ErrNotHeld, err)
}
