package lock

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/locktest/locktest/internal/redisopt"
)

// compareAndDelete deletes the lock key only if it still holds this lease's owner, so a release
// that comes late never frees someone else's lock.
var compareAndDelete = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)

// acquireWithToken takes the lock (SET NX PX) and, only if it got it, draws the next fencing token
// from a counter on the same node, in one atomic step. Returns the token, or 0 when the lock was
// taken. The counter lives on the lock node: if that node restarts without persistence, tokens
// start again from 1 - and fenced storage, having seen higher ones, rejects every later holder.
var acquireWithToken = redis.NewScript(`
if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then
  return redis.call("INCR", KEYS[2])
end
return 0`)

// redisSingle is the lock on one Redis node that the Redis documentation describes before Redlock:
// SET key owner NX PX ttl to acquire, compare-and-delete to release, plus a fencing token.
type redisSingle struct {
	rdb   *redis.Client
	key   string
	ttl   time.Duration
	retry time.Duration
}

func newRedisSingle(cfg Config) *redisSingle {
	return &redisSingle{
		rdb:   redis.NewClient(redisopt.Options(cfg.Addrs[0], cfg.NodeTimeout)),
		key:   cfg.Name,
		ttl:   cfg.TTL,
		retry: cfg.RetryDelay,
	}
}

// newRedisSentinel is the same lock on the primary the Sentinels at cfg.Addrs name. The key and its
// token counter reach the replicas asynchronously: a failover can lose both
// (docs/scenarios.md, R1).
func newRedisSentinel(cfg Config) *redisSingle {
	return &redisSingle{
		rdb:   redis.NewFailoverClient(redisopt.FailoverOptions(redisMaster, cfg.Addrs, cfg.NodeTimeout, cfg.Dial)),
		key:   cfg.Name,
		ttl:   cfg.TTL,
		retry: cfg.RetryDelay,
	}
}

// redisMaster is the name the Sentinels monitor the primary under (cluster.SentinelMaster).
const redisMaster = "locktest"

func (r *redisSingle) Acquire(ctx context.Context) (Lease, error) {
	// uncertain holds the last error after which we may hold the key without knowing it.
	var uncertain error
	for {
		owner := newOwner()
		// The validity is counted from before the request is sent: the server may set the key
		// at any moment after that, so this is the latest safe deadline.
		start := time.Now()
		token, err := acquireWithToken.Run(ctx, r.rdb, []string{r.key, r.key + ":token"}, owner, r.ttl.Milliseconds()).Int64()
		switch {
		case err == nil && token > 0:
			return Lease{Owner: owner, Token: uint64(token), Deadline: start.Add(r.ttl)}, nil
		case err == nil:
			// Taken by someone else: certainly not ours.
		default:
			uncertain = err
			// The SET may have been applied. Delete our key if it is there; if that answers, we
			// know we do not hold the lock.
			if r.forget(ctx, owner) == nil {
				uncertain = nil
			}
		}
		if !sleepRetry(ctx, r.retry) {
			if uncertain != nil {
				return Lease{}, fmt.Errorf("acquire: outcome unknown: %w", uncertain)
			}
			return Lease{}, notAcquired(ctx.Err())
		}
	}
}

// forget removes owner's key if present, on a context that survives the caller's cancellation.
func (r *redisSingle) forget(ctx context.Context, owner string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.ttl/4)
	defer cancel()
	return compareAndDelete.Run(ctx, r.rdb, []string{r.key}, owner).Err()
}

func (r *redisSingle) Release(ctx context.Context, l Lease) error {
	n, err := compareAndDelete.Run(ctx, r.rdb, []string{r.key}, l.Owner).Int()
	if err != nil {
		return fmt.Errorf("release: outcome unknown: %w", err)
	}
	if n == 0 {
		return ErrNotHeld
	}
	return nil
}

func (r *redisSingle) Close() error { return r.rdb.Close() }
