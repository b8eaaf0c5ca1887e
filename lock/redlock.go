package lock

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redsync/redsync/v4"
	redsyncredis "github.com/go-redsync/redsync/v4/redis"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"

	"github.com/locktest/locktest/internal/redisopt"
)

// redlock is redsync's Redlock over N independent masters: the lock is held when a majority of
// nodes accepted SET NX PX within the validity time. redsync computes the validity as
// expiry − elapsed − expiry·drift on Go's monotonic clock; the servers expire keys by their wall
// clocks, which is what Kleppmann's clock-jump scenario attacks.
type redlock struct {
	clients []*redis.Client
	rs      *redsync.Redsync
	name    string
	ttl     time.Duration
	timeout time.Duration
	retry   time.Duration
	held    map[string]*redsync.Mutex // owner → mutex, for Release
}

func newRedlock(cfg Config) *redlock {
	l := &redlock{name: cfg.Name, ttl: cfg.TTL, timeout: cfg.NodeTimeout, retry: cfg.RetryDelay, held: map[string]*redsync.Mutex{}}
	pools := make([]redsyncredis.Pool, len(cfg.Addrs))
	for i, addr := range cfg.Addrs {
		c := redis.NewClient(redisopt.Options(addr, cfg.NodeTimeout))
		l.clients = append(l.clients, c)
		pools[i] = goredis.NewPool(c)
	}
	l.rs = redsync.New(pools...)
	return l
}

func (l *redlock) Acquire(ctx context.Context) (Lease, error) {
	var uncertain error
	for {
		m := l.rs.NewMutex(l.name,
			redsync.WithExpiry(l.ttl),
			redsync.WithDriftFactor(0.01),
			// One attempt per call: the retry loop is ours, so an attempt is never cut short by
			// the caller's deadline halfway (which would leave keys behind without telling).
			redsync.WithTries(1),
			redsync.WithTimeoutFactor(float64(l.timeout)/float64(l.ttl)),
			redsync.WithGenValueFunc(func() (string, error) { return newOwner(), nil }),
		)
		err := m.LockContext(context.WithoutCancel(ctx))
		if err == nil {
			l.held[m.Value()] = m
			return Lease{Owner: m.Value(), Deadline: m.Until()}, nil
		}
		// redsync released whatever it got. Only a node that did not answer leaves doubt: it may
		// have set the key and missed the release too.
		var nodeErr *redsync.RedisError
		if errors.As(err, &nodeErr) {
			uncertain = err
		}
		if !sleepRetry(ctx, l.retry) {
			if uncertain != nil {
				return Lease{}, fmt.Errorf("acquire: outcome unknown: %w", uncertain)
			}
			return Lease{}, notAcquired(fmt.Errorf("%w (last attempt: %v)", ctx.Err(), err))
		}
	}
}

func (l *redlock) Release(ctx context.Context, lease Lease) error {
	m, ok := l.held[lease.Owner]
	if !ok {
		return fmt.Errorf("release: unknown lease %q", lease.Owner)
	}
	delete(l.held, lease.Owner)
	released, err := m.UnlockContext(ctx)
	if released {
		return nil
	}
	var nodeErr *redsync.RedisError
	if errors.As(err, &nodeErr) {
		return fmt.Errorf("release: outcome unknown: %w", err)
	}
	return fmt.Errorf("%w: %v", ErrNotHeld, err)
}

func (l *redlock) Close() error {
	var errs []error
	for _, c := range l.clients {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
