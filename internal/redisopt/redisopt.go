// Package redisopt holds the go-redis client settings every locktest connection uses.
//
// go-redis's defaults are made for applications, not for a fault tester: 3 silent retries, a 5 s
// read timeout and context deadlines ignored unless asked for. Against a partitioned node those
// stretch one lock attempt far past a short TTL, and a silently retried write could be applied
// twice. Every setting here is chosen so one command is one attempt with a bounded wait.
package redisopt

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// Options returns client options for addr where each command waits at most timeout.
func Options(addr string, timeout time.Duration) *redis.Options {
	return &redis.Options{
		Addr:         addr,
		Protocol:     2,
		DialTimeout:  timeout,
		ReadTimeout:  timeout,
		WriteTimeout: timeout,
		// -1 disables retries (0 would mean the default of 3): one command, one attempt, so an
		// unknown outcome is reported as unknown instead of being retried into a double effect.
		MaxRetries: -1,
		// Honour context deadlines, so a caller's overall budget bounds every command.
		ContextTimeoutEnabled: true,
		// A worker runs one operation at a time; a small pool keeps connection counts honest.
		PoolSize:     4,
		MinIdleConns: 1,
		// Redis 7.0 does not know CLIENT SETINFO; skip the handshake noise.
		DisableIdentity: true,
	}
}
