package workload

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/locktest/locktest/internal/redisopt"
	"github.com/locktest/locktest/lock"
)

// Keys on the storage node.
const (
	counterKey  = "locktest:counter"
	writeLogKey = "locktest:writelog"
	fenceKey    = "locktest:fence" // the highest fencing token the storage has seen
	markKey     = "locktest:mark"  // the lease that last marked the resource (FenceCheckAndSet)
)

// Fencing is how the storage node checks the lease of whoever reads and writes it: by its fencing
// token (Kleppmann's remedy) or by its random value (antirez's check-and-set).
type Fencing string

const (
	// NoFencing ignores tokens: the storage trusts whoever calls.
	NoFencing Fencing = "none"
	// FenceReadsWrites rejects any read or write whose token is below the highest seen.
	FenceReadsWrites Fencing = "reads-writes"
	// FenceWritesOnly checks writes only: not enough for read-modify-write (docs/scenarios.md,
	// K1-W), the negative control of fencing.
	FenceWritesOnly Fencing = "writes-only"
	// FenceCheckAndSet is the check at the resource antirez proposes in "Is Redlock safe?" in
	// place of monotonic tokens: a client marks the resource with its lease's random value as it
	// reads, and the resource applies its write only if that mark is still there, in one
	// check-and-set. A write is refused once another lease marked the resource after this one's
	// read. It needs no token, so it works with Redlock (and, as Kleppmann answers, with no lock
	// at all: the lock is then only there for efficiency). Assumes the mark and the data live in
	// one linearizable store with an atomic check-and-set, and every client marks before it reads.
	FenceCheckAndSet Fencing = "check-and-set"
)

// ParseFencing parses none, reads-writes, writes-only or check-and-set ("" is none).
func ParseFencing(s string) (Fencing, error) {
	switch f := Fencing(s); f {
	case "", NoFencing:
		return NoFencing, nil
	case FenceReadsWrites, FenceWritesOnly, FenceCheckAndSet:
		return f, nil
	}
	return "", fmt.Errorf("unknown fencing %q (choose none, reads-writes, writes-only or check-and-set)", s)
}

// NeedsTokens says whether the mode checks fencing tokens, which only some backends hand out.
func (f Fencing) NeedsTokens() bool { return f == FenceReadsWrites || f == FenceWritesOnly }

// ErrFenced means the storage rejected an access because its token was below the highest token
// it had seen: the access certainly had no effect.
var ErrFenced = errors.New("rejected by fencing")

// fenceCheck is the common head of the fenced scripts: reject a token below the highest seen,
// remember a higher one. Equal tokens pass: a holder reads and then writes with one token.
const fenceCheck = `
local hi = tonumber(redis.call("GET", KEYS[#KEYS]) or "0")
local t = tonumber(ARGV[#ARGV])
if t < hi then return {0, hi} end
if t > hi then redis.call("SET", KEYS[#KEYS], ARGV[#ARGV]) end
`

// fencedRead: KEYS counter, fence; ARGV token. Returns {1, value} or {0, highest}.
var fencedRead = redis.NewScript(fenceCheck + `
return {1, tonumber(redis.call("GET", KEYS[1]) or "0")}`)

// fencedWrite: KEYS counter, log, fence; ARGV opid, value, token. Returns {1, 0} or {0, highest}.
var fencedWrite = redis.NewScript(fenceCheck + `
redis.call("SET", KEYS[1], ARGV[2])
redis.call("RPUSH", KEYS[2], ARGV[1] .. " " .. ARGV[2])
return {1, 0}`)

// markedRead: KEYS counter, mark; ARGV owner. Marks the resource as the lease's and returns
// {1, value}.
var markedRead = redis.NewScript(`
redis.call("SET", KEYS[2], ARGV[1])
return {1, tonumber(redis.call("GET", KEYS[1]) or "0")}`)

// checkedWrite: KEYS counter, log, mark; ARGV opid, value, owner. Writes only if the mark is still
// the lease's: returns {1, 0}, or {0, 0} when another lease marked the resource since.
var checkedWrite = redis.NewScript(`
if redis.call("GET", KEYS[3]) ~= ARGV[3] then return {0, 0} end
redis.call("SET", KEYS[1], ARGV[2])
redis.call("RPUSH", KEYS[2], ARGV[1] .. " " .. ARGV[2])
return {1, 0}`)

// writeScript sets the counter and appends "opid value" to the write log in one atomic step. After
// the run, the log says for every write whose reply was lost whether the storage applied it, and
// in which order the storage applied all writes.
var writeScript = redis.NewScript(`
redis.call("SET", KEYS[1], ARGV[2])
redis.call("RPUSH", KEYS[2], ARGV[1] .. " " .. ARGV[2])
return 1`)

// Storage is the node holding the protected counter.
type Storage struct {
	rdb     *redis.Client
	fencing Fencing
}

// NewStorage connects to the storage node at addr; each command waits at most timeout.
func NewStorage(addr string, timeout time.Duration, fencing Fencing) *Storage {
	if fencing == "" {
		fencing = NoFencing
	}
	return &Storage{rdb: redis.NewClient(redisopt.Options(addr, timeout)), fencing: fencing}
}

// Read returns the counter (0 when it was never written) to the holder of lease. With reads
// fenced, the lease's token must not be below the highest token seen, or the read fails with
// ErrFenced; with check-and-set, the read marks the resource as the lease's.
func (s *Storage) Read(ctx context.Context, lease lock.Lease) (int64, error) {
	switch s.fencing {
	case FenceReadsWrites:
		return fencedResult(fencedRead.Run(ctx, s.rdb, []string{counterKey, fenceKey}, lease.Token), lease.Token)
	case FenceCheckAndSet:
		res, err := markedRead.Run(ctx, s.rdb, []string{counterKey, markKey}, lease.Owner).Int64Slice()
		if err == nil && len(res) != 2 {
			err = fmt.Errorf("marked read script returned %v", res)
		}
		if err != nil {
			return 0, err
		}
		return res[1], nil
	}
	v, err := s.rdb.Get(ctx, counterKey).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return v, err
}

// Write sets the counter to value on behalf of operation opID, by the holder of lease. ErrFenced
// means the storage rejected it (certainly no effect); any other error means the outcome is
// unknown.
func (s *Storage) Write(ctx context.Context, opID string, value int64, lease lock.Lease) error {
	switch s.fencing {
	case NoFencing:
		return writeScript.Run(ctx, s.rdb, []string{counterKey, writeLogKey}, opID, value).Err()
	case FenceCheckAndSet:
		ok, err := checkedWrite.Run(ctx, s.rdb, []string{counterKey, writeLogKey, markKey}, opID, value, lease.Owner).Int64Slice()
		if err == nil && len(ok) != 2 {
			err = fmt.Errorf("checked write script returned %v", ok)
		}
		if err != nil {
			return err
		}
		if ok[0] == 0 {
			return fmt.Errorf("%w: another lease marked the resource after this one read it", ErrFenced)
		}
		return nil
	}
	_, err := fencedResult(fencedWrite.Run(ctx, s.rdb, []string{counterKey, writeLogKey, fenceKey}, opID, value, lease.Token), lease.Token)
	return err
}

// fencedResult decodes {ok, n}: the value on success, ErrFenced naming the tokens otherwise.
func fencedResult(c *redis.Cmd, token uint64) (int64, error) {
	res, err := c.Int64Slice()
	if err != nil {
		return 0, err
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("fenced script returned %v", res)
	}
	if res[0] == 0 {
		return 0, fmt.Errorf("%w: token %d is below %d", ErrFenced, token, res[1])
	}
	return res[1], nil
}

// finalScript reads the counter and the write log's length in one atomic step: every log entry up
// to that length is reflected in the value read, and any later entry is a write that landed after
// the read (bytes a delaying proxy held back, a write whose client gave up), which must not be
// counted against it.
var finalScript = redis.NewScript(`
return {tonumber(redis.call("GET", KEYS[1]) or "0"), redis.call("LLEN", KEYS[2])}`)

// Final returns the counter and how many writes the write log held at that moment, read atomically.
func (s *Storage) Final(ctx context.Context) (value, logLen int64, err error) {
	res, err := finalScript.Run(ctx, s.rdb, []string{counterKey, writeLogKey}).Int64Slice()
	if err != nil {
		return 0, 0, err
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("final read script returned %v", res)
	}
	return res[0], res[1], nil
}

// LogEntry is one applied write, in the storage's order.
type LogEntry struct {
	OpID  string
	Value int64
}

// EachLogEntry hands the write log to fn entry by entry, in order, with its position from 1,
// reading a page at a time so a long run's log need fit neither one reply nor memory; it returns how
// many entries it handed over. An hour's run logs millions of writes: kept whole in memory
// they took the coordinator from 40 MB to 320 MB at the end of a 1-hour soak.
func (s *Storage) EachLogEntry(ctx context.Context, fn func(seq int, e LogEntry) error) (int, error) {
	const page = 10000
	n := 0
	for start := int64(0); ; start += page {
		items, err := s.rdb.LRange(ctx, writeLogKey, start, start+page-1).Result()
		if err != nil {
			return n, fmt.Errorf("read write log: %w", err)
		}
		for _, it := range items {
			id, val, ok := strings.Cut(it, " ")
			v, err := strconv.ParseInt(val, 10, 64)
			if !ok || err != nil {
				return n, fmt.Errorf("write log entry %d is malformed: %q", n+1, it)
			}
			n++
			if err := fn(n, LogEntry{OpID: id, Value: v}); err != nil {
				return n, err
			}
		}
		if len(items) < page {
			return n, nil
		}
	}
}

// Reset clears the counter and the write log, for a run on a node that is not fresh.
func (s *Storage) Reset(ctx context.Context) error {
	return s.rdb.Del(ctx, counterKey, writeLogKey, fenceKey, markKey).Err()
}

// Close closes the connection pool.
func (s *Storage) Close() error { return s.rdb.Close() }
