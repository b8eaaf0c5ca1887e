package nemesis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/nemesis"
)

// The faults act on etcd members and ZooKeeper servers as on Redis nodes: a paused server stops,
// a partitioned one cannot be reached from the clients, a killed one comes back and rejoins, and
// the clock fault refuses, saying why, instead of pretending.
func TestFaultsOnEtcd(t *testing.T)      { testFaultsOn(t, cluster.KindEtcd) }
func TestFaultsOnZooKeeper(t *testing.T) { testFaultsOn(t, cluster.KindZooKeeper) }

func testFaultsOn(t *testing.T, k *cluster.Kind) {
	d, c := clustertest.StartKind(t, k, 3, cluster.NoPersistence)
	ctx := context.Background()
	n := c.LockNodes()[0]
	env := nemesis.Env{Control: d, Nodes: c.LockNodes()}
	if err := cluster.Serving(ctx, n); err != nil {
		t.Fatalf("%s before any fault: %v", n.Name, err)
	}
	apply := func(s nemesis.Step, check func()) {
		t.Helper()
		f, err := env.Build(s)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Heal(context.Background()) })
		if err := f.Inject(ctx); err != nil {
			t.Fatalf("%s: %v", s.Kind, err)
		}
		check()
		if err := f.Heal(ctx); err != nil {
			t.Fatalf("heal %s: %v", s.Kind, err)
		}
		if err := cluster.WaitServing(ctx, n, 30*time.Second); err != nil {
			t.Errorf("after %s healed: %v", s.Kind, err)
		}
	}
	apply(nemesis.Step{Kind: nemesis.PauseNode, Targets: []string{n.Name}}, func() {
		if s := procState(t, d, n); s != "T" {
			t.Errorf("paused server is in state %s, want T", s)
		}
	})
	apply(nemesis.Step{Kind: nemesis.Partition, Targets: []string{n.Name}, Mode: nemesis.Reject}, func() {
		if err := cluster.Serving(ctx, n); err == nil {
			t.Error("a server cut off from the clients answered them")
		}
	})
	apply(nemesis.Step{Kind: nemesis.Kill, Targets: []string{n.Name}, RestartAtOnce: true}, func() {})
	if _, err := env.Build(nemesis.Step{Kind: nemesis.Clock, Targets: []string{n.Name}, Delta: 10 * time.Second}); !errors.Is(err, nemesis.ErrNotApplicable) {
		t.Errorf("clock fault on %s: %v, want ErrNotApplicable", k, err)
	}
}
