package lock

import (
	"context"
	"time"
)

// noLock is the negative control: every client "acquires" at once. A run with it must be INVALID;
// if it is not, the harness cannot see lost updates and every other verdict is worthless.
type noLock struct{ ttl time.Duration }

func newNoLock(cfg Config) *noLock { return &noLock{ttl: cfg.TTL} }

func (n *noLock) Acquire(ctx context.Context) (Lease, error) {
	if err := ctx.Err(); err != nil {
		return Lease{}, notAcquired(err)
	}
	return Lease{Owner: newOwner(), Deadline: time.Now().Add(n.ttl)}, nil
}

func (n *noLock) Release(context.Context, Lease) error { return nil }

func (n *noLock) Close() error { return nil }
