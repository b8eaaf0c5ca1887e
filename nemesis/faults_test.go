package nemesis_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/delayproxy"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/internal/redisopt"
	"github.com/locktest/locktest/nemesis"
)

// startNodes starts n lock nodes for one test and removes them when it ends.
func startNodes(t *testing.T, n int) (nemesis.NodeControl, []cluster.Node) {
	return startNodesWith(t, n, cluster.NoPersistence)
}

func startNodesWith(t *testing.T, n int, p cluster.Persistence) (nemesis.NodeControl, []cluster.Node) {
	t.Helper()
	e, c := clustertest.Start(t, n, p)
	return e, c.LockNodes()
}

func client(t *testing.T, n cluster.Node, timeout time.Duration) *redis.Client {
	rdb := redis.NewClient(redisopt.Options(n.Addr, timeout))
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// procState reads the state letter of PID 1 in the node's container (R, S, T...).
func procState(t *testing.T, d nemesis.NodeControl, n cluster.Node) string {
	t.Helper()
	return pid1Stat(t, d, n, 3)
}

// pid1Stat reads field k (from 1, as proc(5) numbers them) of /proc/1/stat in the node's container.
func pid1Stat(t *testing.T, d nemesis.NodeControl, n cluster.Node, k int) string {
	t.Helper()
	out, err := d.Exec(context.Background(), n.ContainerID, "cat", "/proc/1/stat")
	if err != nil {
		t.Fatal(err)
	}
	// "1 (redis-server) S 0 ..." — the command may contain spaces, so read after the last ')',
	// where field 3 starts.
	return strings.Fields(out[strings.LastIndex(out, ")")+1:])[k-3]
}

func TestPauseNode(t *testing.T) {
	d, nodes := startNodes(t, 1)
	n, ctx := nodes[0], context.Background()
	rdb := client(t, n, 300*time.Millisecond)
	f := nemesis.NewPauseNode(d, n)
	t.Cleanup(func() { f.Heal(context.Background()) })

	if err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if s := procState(t, d, n); s != "T" {
		t.Errorf("paused redis-server is in state %s, want T", s)
	}
	if err := rdb.Ping(ctx).Err(); err == nil {
		t.Error("a paused node answered PING")
	}
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if s := procState(t, d, n); s == "T" {
		t.Error("redis-server still stopped after heal")
	}
	if err := pingEventually(rdb); err != nil {
		t.Errorf("after heal: %v", err)
	}
}

func TestPartitionFromClients(t *testing.T) {
	for _, mode := range []nemesis.PartitionMode{nemesis.Drop, nemesis.Reject} {
		t.Run(string(mode), func(t *testing.T) { testPartition(t, mode) })
	}
}

func testPartition(t *testing.T, mode nemesis.PartitionMode) {
	d, nodes := startNodes(t, 2)
	ctx := context.Background()
	cut, other := client(t, nodes[0], 300*time.Millisecond), client(t, nodes[1], 300*time.Millisecond)
	f := nemesis.NewPartition(d, nodes[:1], []string{nemesis.ClientsPeer}, mode)
	t.Cleanup(func() { f.Heal(context.Background()) })

	if err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cut.Ping(ctx).Err(); err == nil {
		t.Error("a node cut off from the clients answered PING")
	}
	if err := other.Ping(ctx).Err(); err != nil {
		t.Errorf("the node outside the partition: %v", err)
	}
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pingEventually(cut); err != nil {
		t.Errorf("after heal: %v", err)
	}
	rules, err := d.Exec(ctx, nodes[0].ContainerID, "iptables", "-S")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rules, "DROP") || strings.Contains(rules, "REJECT") {
		t.Errorf("rules left after heal:\n%s", rules)
	}
	// Heal is idempotent.
	if err := f.Heal(ctx); err != nil {
		t.Errorf("second heal: %v", err)
	}
}

func TestKillWithoutPersistenceLosesKeys(t *testing.T) {
	d, nodes := startNodes(t, 1)
	n, ctx := nodes[0], context.Background()
	rdb := client(t, n, time.Second)
	if err := rdb.Set(ctx, "lock", "me", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	f := nemesis.NewKill(d, true, n)
	t.Cleanup(func() { f.Heal(context.Background()) })
	if err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	// Same address: the port is fixed, so clients reconnect to the restarted node.
	if err := pingEventually(rdb); err != nil {
		t.Fatalf("restarted node at %s: %v", n.Addr, err)
	}
	if v, err := rdb.Exists(ctx, "lock").Result(); err != nil || v != 0 {
		t.Errorf("after a kill without persistence the key exists=%d (%v), want gone", v, err)
	}
}

// With appendfsync always, an acknowledged SET survives SIGKILL and restart (K4's control in
// docs/scenarios.md: the crash itself then loses nothing).
func TestKillWithAppendAlwaysKeepsKeys(t *testing.T) {
	d, nodes := startNodesWith(t, 1, cluster.AppendAlways)
	n, ctx := nodes[0], context.Background()
	rdb := client(t, n, time.Second)
	if err := rdb.Set(ctx, "lock", "me", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	f := nemesis.NewKill(d, true, n)
	t.Cleanup(func() { f.Heal(context.Background()) })
	if err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pingEventually(rdb); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(ctx, "lock").Result(); err != nil || v != "me" {
		t.Errorf("after a kill with appendfsync always: %q, %v; want the key kept", v, err)
	}
	if ttl, err := rdb.PTTL(ctx, "lock").Result(); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("restored key's PTTL = %v (%v), want its original expiry kept", ttl, err)
	}
}

// fakeClients stands in for the workload: one "worker" that is really a sleep process.
type fakeClients struct{ pid int }

func (f fakeClients) Holders() []int       { return []int{0} }
func (f fakeClients) Pid(int) (int, error) { return f.pid, nil }

func TestPauseClientHolder(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // as workers are started
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	state := func() string {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		return strings.Fields(s[strings.LastIndex(s, ")")+1:])[0]
	}
	f := nemesis.NewPauseClient(fakeClients{cmd.Process.Pid}, nemesis.Holder)
	t.Cleanup(func() { f.Heal(context.Background()) })
	if err := f.Inject(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Signal delivery is asynchronous: give the kernel a moment to stop the process.
	for i := 0; i < 100 && state() != "T"; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if s := state(); s != "T" {
		t.Errorf("paused client in state %s, want T", s)
	}
	if got := strings.Join(f.Targets(), ","); got != "p0" {
		t.Errorf("targets = %s, want the holder p0", got)
	}
	if err := f.Heal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := state(); s == "T" {
		t.Error("client still stopped after heal")
	}
}

// TestNemesisRecordsAndHealsAll checks the runner: windows are recorded, HealAll undoes everything.
func TestNemesisRecordsAndHealsAll(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // as workers are started
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var rec recorder
	n := nemesis.New(&rec, nil)
	if _, err := n.Inject(context.Background(), nemesis.NewPauseClient(fakeClients{cmd.Process.Pid}, 0)); err != nil {
		t.Fatal(err)
	}
	if n.Active() != 1 {
		t.Fatalf("active = %d", n.Active())
	}
	if err := n.HealAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Active() != 0 || len(rec.ops) != 2 || rec.ops[0].Type != history.Invoke || rec.ops[1].Type != history.OK ||
		rec.ops[0].ID != rec.ops[1].ID || rec.ops[0].Fault != string(nemesis.PauseClient) {
		t.Errorf("recorded %+v, want one invoke/ok window", rec.ops)
	}
}

type recorder struct{ ops []history.Op }

func (r *recorder) Append(op history.Op) error { r.ops = append(r.ops, op); return nil }

func pingEventually(rdb *redis.Client) error {
	var err error
	for range 50 {
		if err = rdb.Ping(context.Background()).Err(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// oneLink routes process 0 to one node through a delaying proxy, as the harness does per client.
type oneLink struct {
	node string
	px   *delayproxy.Proxy
}

func (l oneLink) Link(p int, node string) (nemesis.Link, bool) {
	return nemesis.ProxyLink(l.px), p == 0 && node == l.node
}
func (l oneLink) Processes() int      { return 1 }
func (l oneLink) LockNodes() []string { return []string{l.node} }

func TestDelayThroughProxy(t *testing.T) {
	_, nodes := startNodes(t, 1)
	n, ctx := nodes[0], context.Background()
	px, err := delayproxy.Start(n.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	rdb := redis.NewClient(redisopt.Options(px.Addr(), 5*time.Second))
	t.Cleanup(func() { rdb.Close() })
	rtt := func() time.Duration {
		best := time.Hour
		for range 3 { // the fastest of a few: scheduling noise only adds
			t0 := time.Now()
			if err := rdb.Ping(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(t0))
		}
		return best
	}
	before := rtt()
	f, err := nemesis.NewDelay(oneLink{n.Name, px}, 300*time.Millisecond, nemesis.Target{Client: "p0", Node: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	during := rtt()
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	after := rtt()
	t.Logf("PING through the proxy: before %v, during %v, after %v", before, during, after)
	if during < 300*time.Millisecond {
		t.Errorf("round trip under a 300ms delay took %v", during)
	}
	if after >= 300*time.Millisecond {
		t.Errorf("round trip after heal still took %v", after)
	}
	if _, err := nemesis.NewDelay(oneLink{n.Name, px}, time.Second, nemesis.Target{Client: "p1", Node: n.Name}); err == nil {
		t.Error("a delay on a link the run does not have was accepted")
	}
}

// A partition between nodes (from: [n2]) cuts n1 off from n2 and only from n2.
func TestPartitionBetweenNodes(t *testing.T) {
	d, nodes := startNodes(t, 2)
	ctx := context.Background()
	env := nemesis.Env{Control: d, Nodes: nodes}
	f, err := env.Build(nemesis.Step{Kind: nemesis.Partition, Targets: []string{"n1"}, From: []string{"n2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Heal(context.Background()) })
	pingPeer := func() error {
		_, err := d.Exec(ctx, nodes[0].ContainerID, "timeout", "2", "redis-cli", "-h", nodes[1].IP, "ping")
		return err
	}
	if err := pingPeer(); err != nil {
		t.Fatalf("n1 → n2 before the partition: %v", err)
	}
	if err := f.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pingPeer(); err == nil {
		t.Error("n1 reached n2 across the partition")
	}
	if err := client(t, nodes[0], time.Second).Ping(ctx).Err(); err != nil {
		t.Errorf("clients must still reach n1: %v", err)
	}
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pingPeer(); err != nil {
		t.Errorf("n1 → n2 after heal: %v", err)
	}
	if _, err := env.Build(nemesis.Step{Kind: nemesis.Partition, Targets: []string{"n1"}, From: []string{"n9"}}); err == nil {
		t.Error("a partition from an unknown node was accepted")
	}
}
