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
)

// Keys on the storage node.
const (
	counterKey  = "locktest:counter"
	writeLogKey = "locktest:writelog"
)

// writeScript sets the counter and appends "opid value" to the write log in one atomic step. After
// the run, the log says for every write whose reply was lost whether the storage applied it, and
// in which order the storage applied all writes.
var writeScript = redis.NewScript(`
redis.call("SET", KEYS[1], ARGV[2])
redis.call("RPUSH", KEYS[2], ARGV[1] .. " " .. ARGV[2])
return 1`)

// Storage is the node holding the protected counter.
type Storage struct {
	rdb *redis.Client
}

// NewStorage connects to the storage node at addr; each command waits at most timeout.
func NewStorage(addr string, timeout time.Duration) *Storage {
	return &Storage{rdb: redis.NewClient(redisopt.Options(addr, timeout))}
}

// Read returns the counter (0 when it was never written).
func (s *Storage) Read(ctx context.Context) (int64, error) {
	v, err := s.rdb.Get(ctx, counterKey).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return v, err
}

// Write sets the counter to value on behalf of operation opID. An error means the outcome is
// unknown: the script may have run.
func (s *Storage) Write(ctx context.Context, opID string, value int64) error {
	return writeScript.Run(ctx, s.rdb, []string{counterKey, writeLogKey}, opID, value).Err()
}

// LogEntry is one applied write, in the storage's order.
type LogEntry struct {
	OpID  string
	Value int64
}

// WriteLog returns every write the storage applied, in order, reading in pages so a long run's
// log does not have to fit in one reply.
func (s *Storage) WriteLog(ctx context.Context) ([]LogEntry, error) {
	const page = 10000
	var out []LogEntry
	for start := int64(0); ; start += page {
		items, err := s.rdb.LRange(ctx, writeLogKey, start, start+page-1).Result()
		if err != nil {
			return out, fmt.Errorf("read write log: %w", err)
		}
		for _, it := range items {
			id, val, ok := strings.Cut(it, " ")
			v, err := strconv.ParseInt(val, 10, 64)
			if !ok || err != nil {
				return out, fmt.Errorf("write log entry %d is malformed: %q", len(out)+1, it)
			}
			out = append(out, LogEntry{OpID: id, Value: v})
		}
		if len(items) < page {
			return out, nil
		}
	}
}

// Reset clears the counter and the write log, for a run on a node that is not fresh.
func (s *Storage) Reset(ctx context.Context) error {
	return s.rdb.Del(ctx, counterKey, writeLogKey).Err()
}

// Close closes the connection pool.
func (s *Storage) Close() error { return s.rdb.Close() }
