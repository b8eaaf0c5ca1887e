package nemesis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/nemesis"
)

// The faults act on etcd members and ZooKeeper servers as on Redis nodes: a paused server stops,
// a partitioned one cannot be reached from the clients, a killed one comes back and rejoins, and
// the clock fault refuses, saying why, instead of pretending.
func TestFaultsOnEtcd(t *testing.T)      { testFaultsOn(t, cluster.KindEtcd, etcdHealthy) }
func TestFaultsOnZooKeeper(t *testing.T) { testFaultsOn(t, cluster.KindZooKeeper, zooKeeperServing) }

func testFaultsOn(t *testing.T, k cluster.Kind, serving func(addr string) error) {
	cli, c := clustertest.StartKind(t, k, 3, cluster.NoPersistence)
	d, ctx := nemesis.NewDocker(cli), context.Background()
	n := c.LockNodes()[0]
	env := nemesis.Env{Docker: d, Nodes: c.LockNodes()}
	if err := serving(n.Addr); err != nil {
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
		if err := eventually(func() error { return serving(n.Addr) }); err != nil {
			t.Errorf("after %s healed: %v", s.Kind, err)
		}
	}
	apply(nemesis.Step{Kind: nemesis.PauseNode, Targets: []string{n.Name}}, func() {
		if s := procState(t, d, n); s != "T" {
			t.Errorf("paused server is in state %s, want T", s)
		}
	})
	apply(nemesis.Step{Kind: nemesis.Partition, Targets: []string{n.Name}, Mode: nemesis.Reject}, func() {
		if err := serving(n.Addr); err == nil {
			t.Error("a server cut off from the clients answered them")
		}
	})
	apply(nemesis.Step{Kind: nemesis.Kill, Targets: []string{n.Name}, RestartAtOnce: true}, func() {})
	if _, err := env.Build(nemesis.Step{Kind: nemesis.Clock, Targets: []string{n.Name}, Delta: 10 * time.Second}); !errors.Is(err, nemesis.ErrNotApplicable) {
		t.Errorf("clock fault on %s: %v, want ErrNotApplicable", k, err)
	}
}

func eventually(f func() error) error {
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = f(); err == nil {
			return nil
		}
	}
	return err
}

// etcdHealthy asks the member's /health endpoint, which is true only with a leader.
func etcdHealthy(addr string) error {
	hc := http.Client{Timeout: time.Second}
	resp, err := hc.Get("http://" + addr + "/health")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"health":"true"`) {
		return fmt.Errorf("etcd health: %s", b)
	}
	return nil
}

// zooKeeperServing asks the server for its mode: leader or follower means it serves.
func zooKeeperServing(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(conn, "srvr"); err != nil {
		return err
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), "Mode: leader") && !strings.Contains(string(b), "Mode: follower") {
		return fmt.Errorf("zookeeper not serving: %q", b)
	}
	return nil
}
