package nemesis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

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
	d, c := clustertest.StartKind(t, k, 3, "")
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

// A killed etcd member or ZooKeeper server comes back with every acknowledged write in both of
// their durability settings: with nofsync too, because a kill ends the process, not the machine,
// and the log it wrote survives in the page cache. That is what makes nofsync the honest default
// (cluster.NoFsync). Each case also checks that the setting reached the server.
func TestKilledConsensusServerKeepsWrites(t *testing.T) {
	for _, k := range []*cluster.Kind{cluster.KindEtcd, cluster.KindZooKeeper} {
		for _, p := range []cluster.Persistence{cluster.NoFsync, cluster.AppendAlways} {
			t.Run(k.Name+"/"+string(p), func(t *testing.T) { testKillKeeps(t, k, p) })
		}
	}
}

func testKillKeeps(t *testing.T, k *cluster.Kind, p cluster.Persistence) {
	d, c := clustertest.StartKind(t, k, 1, p)
	ctx := context.Background()
	n := c.LockNodes()[0]
	store := kvStore(t, k, n)
	if err := store.put("/locktest-durability", "written"); err != nil {
		t.Fatal(err)
	}
	// The setting as the server was started with it.
	cfg := map[*cluster.Kind][]string{cluster.KindEtcd: {"cat", "/proc/1/cmdline"}, cluster.KindZooKeeper: {"cat", "/etc/zookeeper/conf/zoo.cfg"}}[k]
	out, err := d.Exec(ctx, n.ContainerID, cfg...)
	if err != nil {
		t.Fatal(err)
	}
	noFsync := map[*cluster.Kind]string{cluster.KindEtcd: "--unsafe-no-fsync", cluster.KindZooKeeper: "forceSync=no"}[k]
	if got := strings.Contains(out, noFsync); got != (p == cluster.NoFsync) {
		t.Errorf("%s with persistence %s: %q in its configuration = %v", k, p, noFsync, got)
	}
	started := pid1Start(t, d, n)
	f, err := (nemesis.Env{Control: d, Nodes: c.LockNodes()}).Build(nemesis.Step{Kind: nemesis.Kill, Targets: []string{n.Name}, RestartAtOnce: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Heal(context.Background()) })
	if err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cluster.WaitServing(ctx, n, 60*time.Second); err != nil {
		t.Fatalf("after the kill: %v", err)
	}
	if pid1Start(t, d, n) == started {
		t.Fatal("the server's process is the one from before the kill: it was not killed")
	}
	// A fresh client: the old one's connection died with the server.
	v, err := kvStore(t, k, n).get("/locktest-durability")
	if err != nil || v != "written" {
		t.Errorf("%s killed with persistence %s: read %q, %v; want the acknowledged write kept", k, p, v, err)
	}
}

// pid1Start is when the container's PID 1 started (field 22 of /proc/1/stat, in clock ticks since
// boot): a server that was killed and restarted is a new process with a later start.
func pid1Start(t *testing.T, d nemesis.NodeControl, n cluster.Node) string {
	t.Helper()
	return pid1Stat(t, d, n, 22)
}

// kv is the one write and one read the durability test needs, on etcd or ZooKeeper.
type kv struct {
	put func(key, value string) error
	get func(key string) (string, error)
}

func kvStore(t *testing.T, k *cluster.Kind, n cluster.Node) kv {
	t.Helper()
	ctx := context.Background()
	switch k {
	case cluster.KindEtcd:
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{n.Addr}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.Close() })
		return kv{
			put: func(key, value string) error {
				ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_, err := cli.Put(ctx, key, value)
				return err
			},
			get: func(key string) (string, error) {
				ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				resp, err := cli.Get(ctx, key)
				if err != nil || len(resp.Kvs) == 0 {
					return "", err
				}
				return string(resp.Kvs[0].Value), nil
			},
		}
	case cluster.KindZooKeeper:
		conn, _, err := zk.Connect([]string{n.Addr}, 5*time.Second, zk.WithLogger(quietZK{}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(conn.Close)
		return kv{
			put: func(key, value string) error {
				_, err := conn.Create(key, []byte(value), 0, zk.WorldACL(zk.PermAll))
				return err
			},
			get: func(key string) (string, error) {
				b, _, err := conn.Get(key)
				return string(b), err
			},
		}
	}
	t.Fatalf("no client for %s", k)
	return kv{}
}

type quietZK struct{}

func (quietZK) Printf(string, ...any) {}
