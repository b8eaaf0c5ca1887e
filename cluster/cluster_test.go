package cluster_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/images"
)

// TestStartAndTeardown starts real containers, talks to each node through its 127.0.0.1 port,
// and checks that Close leaves no container or network of the run behind.
func TestStartAndTeardown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	eng, err := cluster.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	tag, err := cluster.EnsureImage(ctx, eng, images.Redis, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	runID := "test-" + time.Now().Format("150405.000")
	c, err := cluster.Start(ctx, cluster.Spec{RunID: runID, LockNodes: 3, Image: tag})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	t.Logf("3 lock nodes + storage started in %v", c.Timings.Start)

	nodes := append(c.LockNodes(), c.Storage())
	if len(nodes) != 4 {
		t.Fatalf("got %d nodes, want 4", len(nodes))
	}
	for _, n := range nodes {
		if got := n.Addr[:len("127.0.0.1:")]; got != "127.0.0.1:" {
			t.Errorf("node %s is published on %s, want 127.0.0.1 only", n.Name, n.Addr)
		}
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr})
		if err := rdb.Ping(ctx).Err(); err != nil {
			t.Errorf("ping %s at %s: %v", n.Name, n.Addr, err)
		}
		rdb.Close()
	}

	if err := c.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	t.Logf("stopped in %v", c.Timings.Stop)
	clustertest.AssertNothingLeft(t, eng, runID)
}
