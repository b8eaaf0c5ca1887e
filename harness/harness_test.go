package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/scenario"
	"github.com/locktest/locktest/workload"
)

// TestMain lets the test binary serve as the worker processes the harness starts.
func TestMain(m *testing.M) {
	workload.MaybeRunWorker()
	os.Exit(m.Run())
}

func params(t *testing.T, b lock.Backend, clients int, limit time.Duration) harness.Params {
	run := config.Default()
	run.Backend, run.Clients, run.TTL, run.TimeLimit, run.Seed = b, clients, 5*time.Second, limit, 1
	return harness.Params{Run: run, ResultsDir: t.TempDir(), Out: testWriter{t}}
}

func runTest(t *testing.T, p harness.Params) *harness.Outcome {
	t.Helper()
	if testing.Short() {
		t.Skip("starts containers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := harness.Test(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, out.Results.RunID)
	for _, f := range []string{report.HistoryFile, report.ResultsFile, report.VisualizationFile} {
		if st, err := os.Stat(filepath.Join(p.ResultsDir, "latest", f)); err != nil || st.Size() == 0 {
			t.Errorf("results/latest/%s missing or empty (%v)", f, err)
		}
	}
	r := out.Results
	t.Logf("%s: valid=%s ok=%d fail=%d info=%d anomalies=%+v throughput=%.0f/s timings=%+v coordinator=%+v",
		p.Backend, r.Valid, r.Ops.OK, r.Ops.Fail, r.Ops.Info, r.Anomalies, r.Throughput, r.Timings, r.Coordinator)
	// VmHWM only grows: the peak through the check is at least the workload's.
	if c := r.Coordinator; c == nil || c.WorkloadPeakRSSMB <= 0 || c.PeakRSSMB < c.WorkloadPeakRSSMB {
		t.Errorf("coordinator memory not recorded: %+v", c)
	}
	return out
}

// The negative control: without a lock, concurrent increments must be caught losing updates.
// If this ever passes, the checker is broken and every other verdict is worthless.
func TestNoLockIsInvalid(t *testing.T) {
	out := runTest(t, params(t, lock.NoLock, 4, 6*time.Second))
	r := out.Results
	if r.Valid != checker.Invalid {
		t.Fatalf("nolock verdict = %s, want invalid", r.Valid)
	}
	if r.Anomalies.LostUpdates == 0 || r.Anomalies.Overlaps == 0 || r.Anomalies.Nonlinearizable == 0 {
		t.Errorf("nolock anomalies = %+v, want lost updates, overlaps and a nonlinearizable chunk", r.Anomalies)
	}
	if r.FinalValue == nil || *r.FinalValue >= r.Acknowledged {
		t.Errorf("final counter %v should be below the %d acknowledged increments", r.FinalValue, r.Acknowledged)
	}
}

// The harness must not cry wolf: Redlock over 5 healthy nodes protects the counter.
func TestRedlockWithoutFaultsIsValid(t *testing.T) {
	out := runTest(t, params(t, lock.Redlock, 5, 8*time.Second))
	r := out.Results
	if r.Valid != checker.Valid {
		t.Fatalf("redlock verdict = %s, want valid; anomalies %+v, examples %+v", r.Valid, r.Anomalies, r.Examples)
	}
	if r.Ops.OK < 50 {
		t.Errorf("only %d increments in 8s: the workload barely ran", r.Ops.OK)
	}
	if r.FinalValue == nil || *r.FinalValue != r.Acknowledged {
		t.Errorf("final counter %v, want %d", r.FinalValue, r.Acknowledged)
	}
	assertHistoryShape(t, filepath.Join(out.Dir, report.HistoryFile), 5)
}

func TestRedisSingleWithoutFaultsIsValid(t *testing.T) {
	out := runTest(t, params(t, lock.RedisSingle, 4, 5*time.Second))
	if r := out.Results; r.Valid != checker.Valid || r.Ops.OK < 50 {
		t.Fatalf("redis-single verdict = %s with %d ok increments; anomalies %+v", r.Valid, r.Ops.OK, r.Anomalies)
	}
}

// assertHistoryShape checks the recorded history itself: every worker process took part, records
// are stamped with the shared monotonic clock, and each acquisition carries a validity deadline.
func assertHistoryShape(t *testing.T, path string, processes int) {
	t.Helper()
	h, err := history.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Truncated {
		t.Error("history of a completed run is truncated")
	}
	seen := map[int]bool{}
	now := history.Now()
	for _, op := range h.Ops {
		if op.Time <= 0 || op.Time > now {
			t.Fatalf("record time %d is not a CLOCK_MONOTONIC reading before %d: %+v", op.Time, now, op)
		}
		if op.F == history.Acquire && op.Type == history.OK {
			seen[op.Process] = true
			if op.Deadline <= op.Time {
				t.Fatalf("acquisition without a future validity deadline: %+v", op)
			}
		}
	}
	if len(seen) != processes {
		t.Errorf("%d of %d processes acquired the lock", len(seen), processes)
	}
}

func TestBadParams(t *testing.T) {
	p := params(t, "nope", 1, time.Second)
	if _, err := harness.Test(context.Background(), p); err == nil {
		t.Error("unknown backend accepted")
	}
	p = params(t, lock.Redlock, 0, time.Second)
	if err := p.Validate(); err == nil {
		t.Error("zero clients accepted")
	}
	for _, bad := range []func(*harness.Params){
		func(p *harness.Params) { p.Backend, p.TTL = lock.Etcd, 1500*time.Millisecond }, // not whole seconds
		func(p *harness.Params) { p.Backend, p.TTL = lock.Etcd, time.Second },           // below etcd's minimum
		func(p *harness.Params) { p.Backend, p.Nodes = lock.ZooKeeper, 4 },              // even ensemble
		func(p *harness.Params) { p.Backend, p.Nodes = lock.RedisSentinel, 1 },          // no replica
		func(p *harness.Params) { p.Backend, p.Cluster = lock.Etcd, config.Compose },
		func(p *harness.Params) { p.Backend, p.Fencing = lock.Redlock, workload.FenceReadsWrites },
		func(p *harness.Params) { p.Backend, p.TTL, p.Client.Extend = lock.Etcd, 2*time.Second, true }, // keeps itself alive
		func(p *harness.Params) { p.Client.Guard, p.Client.GuardMargin = workload.GuardValidity, 2*time.Second },
	} {
		p := params(t, lock.Redlock, 2, time.Second)
		p.TTL = 2 * time.Second
		bad(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("accepted %s with ttl %v, %d nodes, cluster %q, fencing %q", p.Backend, p.TTL, p.Nodes, p.Cluster, p.Fencing)
		}
	}
}

func assertNothingLeft(t *testing.T, runID string) {
	t.Helper()
	eng, err := cluster.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	clustertest.AssertNothingLeft(t, eng, runID)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}

// Each scripted scenario must reach its expected verdict for the reason it claims (its required
// anomalies), on every run: the hook points make the interleaving deterministic.
func TestScenarios(t *testing.T) {
	for _, file := range []string{
		"n0-nolock", "v0-no-faults", "k1-pause-holder", "k2-delayed-write", "k3-1-clock-jump-single",
		"k3-redlock-clock-jump", "k4-redlock-crash-restart", "k4-durable-crash-restart",
		"k1f-fenced-pause", "k1w-write-fencing-only",
		"e1-etcd-pause-holder", "e1f-etcd-fenced", "z1-zookeeper-pause-holder", "z1f-zookeeper-fenced",
		"r1-sentinel-failover",
		"k1g-guard-after-read", "k1gl-guard-then-pause", "x0-work-outlives-lease", "x1-extend-pause-in-work",
		"k1a-check-and-set", "n0a-nolock-check-and-set", "x2-extend-over-a-cut", "k2c-storage-cut",
	} {
		t.Run(file, func(t *testing.T) {
			sc, err := scenario.Load("../scenarios/" + file + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			p := params(t, lock.Redlock, 3, 20*time.Second)
			p.UseScenario(sc, func(string) bool { return false })
			out := runTest(t, p)
			r := out.Results
			if r.Scenario == nil || !r.Scenario.Met {
				t.Fatalf("scenario %s not met: verdict %s, anomalies %+v, outcome %+v, examples %+v",
					sc.Name, r.Valid, r.Anomalies, r.Scenario, r.Examples)
			}
			injects := len(sc.Kinds()) > 0
			if injects && len(r.Faults) == 0 {
				t.Error("no fault window recorded")
			}
			for _, f := range r.Faults {
				if f.Outcome != checker.FaultHealed {
					t.Errorf("fault %+v not healed", f)
				}
			}
		})
	}
}

// The Python client (redis-py's own Lock, an external program speaking the worker protocol) meets
// the lock contract as built-in clients do: no overlap and no lost update without faults, every
// waiting client woken to take the lock in turn, and K1's paused holder outliving its lease; and
// its lease check and extension hold a stale write back as the built-in client's do.
func TestRedisPyClient(t *testing.T) {
	t.Run("exclusion and waiters woken", func(t *testing.T) {
		p := params(t, lock.RedisPy, 3, 8*time.Second)
		// redis-py's waiters poll every 0.1 s and a releasing client asks again at once, so
		// without a rest between its turns it would win nearly every race for the lock.
		p.TTL, p.Think = 2*time.Second, 100*time.Millisecond
		out := runTest(t, p)
		r := out.Results
		if r.Valid != checker.Valid || r.Anomalies.Overlaps != 0 || r.Ops.OK < 10 || r.Ops.Info != 0 {
			t.Fatalf("verdict %s, ops %+v, anomalies %+v: want VALID increments, no overlap, nothing unknown", r.Valid, r.Ops, r.Anomalies)
		}
		ops, err := history.ReadFile(filepath.Join(out.Dir, report.HistoryFile))
		if err != nil {
			t.Fatal(err)
		}
		acquired := map[int]int{}
		for _, op := range ops.Ops {
			if op.F == history.Acquire && op.Type == history.OK {
				acquired[op.Process]++
			}
		}
		assertRedisPyOwners(t, out.Dir)
		for proc := range 3 {
			if acquired[proc] < 2 {
				t.Errorf("process %d acquired %d time(s) while the others held and released the lock: %v", proc, acquired[proc], acquired)
			}
		}
	})
	// The stories of K1 (a paused holder outlives its lease and loses updates), K1-G (a lease
	// check before the write holds the stale write back) and X1 (the extension after a pause is
	// refused and holds it back) end with redis-py's Lock as with the built-in clients. K1-G runs
	// the client the way a user runs their own: named by the scenario's client_cmd, on the
	// redis-single backend.
	for _, tc := range []struct{ file, clientCmd string }{
		{"k1-pause-holder.yaml", ""},
		{"k1g-guard-after-read.yaml", "/usr/bin/python3 ../clients/python/locktest_client.py"},
		{"x1-extend-pause-in-work.yaml", ""},
	} {
		sc, err := scenario.Load("../scenarios/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(sc.Name, func(t *testing.T) {
			backend := lock.RedisPy
			if tc.clientCmd != "" {
				backend, sc.ClientCmd = lock.RedisSingle, tc.clientCmd
			}
			p := params(t, backend, 3, sc.TimeLimit.D())
			p.UseScenario(sc, func(flag string) bool { return flag == "backend" })
			if p.ClientCmd != tc.clientCmd {
				t.Fatalf("client_cmd %q in the scenario, %q in the run", tc.clientCmd, p.ClientCmd)
			}
			out := runTest(t, p)
			r := out.Results
			if r.Scenario == nil || !r.Scenario.Met {
				t.Fatalf("%s with redis-py's Lock: verdict %s, ops %+v, anomalies %+v, outcome %+v", sc.Name, r.Valid, r.Ops, r.Anomalies, r.Scenario)
			}
			assertRedisPyOwners(t, out.Dir)
		})
	}
}

// assertRedisPyOwners fails unless every lease in the run's history was redis-py's: its tokens are
// uuid1().hex, 32 hex digits, where the built-in clients' owners have 24. A run that fell back to
// the built-in client would meet the same scenarios, for the wrong reason.
func assertRedisPyOwners(t *testing.T, dir string) {
	t.Helper()
	ops, err := history.ReadFile(filepath.Join(dir, report.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, op := range ops.Ops {
		if op.F == history.Acquire && op.Type == history.OK {
			n++
			if len(op.Owner) != 32 {
				t.Fatalf("lease owner %q (process %d) is not a redis-py token: the run did not use the Python client", op.Owner, op.Process)
			}
		}
	}
	if n == 0 {
		t.Fatal("no lease acquired")
	}
}

// A client that works longer than its lease and extends it in time never lets another client in:
// the compare-and-PEXPIRE extension of redis-single, with no faults.
func TestExtensionOutlastsTheLease(t *testing.T) {
	p := params(t, lock.RedisSingle, 2, 8*time.Second)
	p.TTL, p.Client.Work, p.Client.Extend = time.Second, workload.Work{Min: 1500 * time.Millisecond, Max: 1500 * time.Millisecond}, true
	r := runTest(t, p).Results
	if r.Valid != checker.Valid || r.Anomalies.Overlaps != 0 || r.Ops.OK < 2 {
		t.Fatalf("verdict %s, %d ok, anomalies %+v: want VALID increments and no overlap", r.Valid, r.Ops.OK, r.Anomalies)
	}
	// 1.5 s of work in a 1 s lease, extended below half a TTL: at least one extension each.
	if r.Ops.ExtendOK < r.Ops.OK || r.Ops.ExtendFail+r.Ops.ExtendInfo+r.Ops.Skipped != 0 {
		t.Errorf("ops %+v: want an ok extension for every increment, none refused, no write skipped", r.Ops)
	}
}

// A random pause of the holder is caught right after its read, so it loses data every time, not
// only when the pause happens to land inside the critical section.
func TestRandomHolderPauseLosesData(t *testing.T) {
	p := params(t, lock.Redlock, 3, 12*time.Second)
	p.TTL, p.Faults, p.FaultInterval = 2*time.Second, []nemesis.Kind{nemesis.PauseClient}, 4*time.Second
	r := runTest(t, p).Results
	if r.Valid != checker.Invalid || r.Anomalies.LostUpdates == 0 || r.Anomalies.StaleWrites == 0 {
		t.Fatalf("verdict %s, anomalies %+v: want a stale write losing updates", r.Valid, r.Anomalies)
	}
	if len(r.Faults) != 1 || r.Faults[0].Outcome != checker.FaultHealed || r.Faults[0].End-r.Faults[0].Start < int64(3*time.Second) {
		t.Errorf("fault windows %+v: want one healed pause of about 4s", r.Faults)
	}
}
