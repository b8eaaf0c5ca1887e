package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Serving asks node n, through its 127.0.0.1 address, whether it serves clients, the way its kind
// tells (see the Kind values).
func Serving(ctx context.Context, n Node) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return KindOf(n).serving(ctx, n)
}

// redisServing is PING, for Redis servers and Sentinels.
func redisServing(ctx context.Context, n Node) error {
	rdb := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialTimeout: time.Second, DisableIdentity: true})
	defer rdb.Close()
	return rdb.Ping(ctx).Err()
}

// etcdServing asks an etcd member's /health, true only once the cluster has a leader.
func etcdServing(ctx context.Context, n Node) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.Addr+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"health":"true"`) {
		return fmt.Errorf("etcd %s: %s", n.Name, strings.TrimSpace(string(b)))
	}
	return nil
}

// zooKeeperServing asks a ZooKeeper server for its mode: leader or follower, not still looking
// for one.
func zooKeeperServing(ctx context.Context, n Node) error {
	mode, err := zooKeeperMode(ctx, n.Addr)
	if err != nil {
		return err
	}
	if mode != "leader" && mode != "follower" && mode != "standalone" {
		return fmt.Errorf("zookeeper %s is in mode %q", n.Name, mode)
	}
	return nil
}

// WaitServing waits up to timeout until n serves (see Serving), and returns the last error if it
// never does.
func WaitServing(ctx context.Context, n Node, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := Serving(ctx, n)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s is not serving after %v: %w", n.Name, timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// zooKeeperMode asks a server for its mode with the `srvr` four-letter command.
func zooKeeperMode(ctx context.Context, addr string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, "srvr"); err != nil {
		return "", err
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(out)) {
		if mode, ok := strings.CutPrefix(strings.TrimSpace(line), "Mode: "); ok {
			return mode, nil
		}
	}
	return "", fmt.Errorf("no mode in %q", out)
}
