// Package clustertest starts real node containers for tests and checks that nothing is left
// behind. Tests that use it are skipped with -short.
package clustertest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/cluster"
)

// Start starts lockNodes Redis lock nodes and a storage node with persistence p for the test, and
// removes them when the test ends, whatever happens. It skips the test in -short mode.
func Start(t *testing.T, lockNodes int, p cluster.Persistence) (*cluster.Engine, *cluster.Containers) {
	t.Helper()
	return StartKind(t, cluster.KindRedis, lockNodes, p)
}

// StartKind is Start with lock nodes of kind k (building their image if needed).
func StartKind(t *testing.T, k *cluster.Kind, lockNodes int, p cluster.Persistence) (*cluster.Engine, *cluster.Containers) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts containers")
	}
	ctx := context.Background()
	eng, err := cluster.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	tag, lockTag, err := cluster.EnsureImages(ctx, eng, k, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	runID := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + "-" + time.Now().Format("150405.000")
	c, err := cluster.Start(ctx, cluster.Spec{RunID: runID, Kind: k, LockNodes: lockNodes, Image: tag, LockImage: lockTag, Persistence: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return eng, c
}

// AssertNothingLeft fails the test if any container or network of run runID still exists, and
// removes them so one failure does not leak into the next test.
func AssertNothingLeft(t *testing.T, e *cluster.Engine, runID string) {
	t.Helper()
	ctx := context.Background()
	left, err := e.RunLeftovers(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if left.Containers+left.Networks > 0 {
		t.Errorf("run %s left %d container(s) and %d network(s)", runID, left.Containers, left.Networks)
		cluster.Clean(ctx, e, cluster.CleanOptions{RunID: runID, All: true})
	}
}
