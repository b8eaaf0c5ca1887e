// Package redisopt holds the go-redis client settings every locktest connection uses.
//
// go-redis's defaults are made for applications, not for a fault tester: 3 silent retries, a 5 s
// read timeout and context deadlines ignored unless asked for. Against a partitioned node those
// stretch one lock attempt far past a short TTL, and a silently retried write could be applied
// twice. Every setting here is chosen so one command is one attempt with a bounded wait.
package redisopt

import (
	"context"
	"net"
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

// FailoverOptions returns options for a client of the primary that the Sentinels at sentinels
// name master, with the same one-attempt settings as Options. dial maps the addresses Sentinels
// give out (the servers' container addresses) to those to dial; others are dialled as given.
func FailoverOptions(master string, sentinels []string, timeout time.Duration, dial map[string]string) *redis.FailoverOptions {
	o := Options("", timeout)
	d := net.Dialer{Timeout: timeout}
	return &redis.FailoverOptions{
		MasterName:    master,
		SentinelAddrs: sentinels,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to, ok := dial[addr]; ok {
				addr = to
			}
			return d.DialContext(ctx, network, addr)
		},
		Protocol:              o.Protocol,
		DialTimeout:           o.DialTimeout,
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		MaxRetries:            o.MaxRetries,
		ContextTimeoutEnabled: o.ContextTimeoutEnabled,
		PoolSize:              o.PoolSize,
		MinIdleConns:          o.MinIdleConns,
		DisableIdentity:       o.DisableIdentity,
	}
}
