package compare

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/locktest/locktest/backend"
	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/explore"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/workload"
)

func TestPlanSkipsWhatMakesNoSense(t *testing.T) {
	p := NewPlan(backends(t, lock.NoLock, lock.RedisSingle, lock.Redlock),
		[]workload.Fencing{workload.NoFencing, workload.FenceReadsWrites},
		[]string{NoFault, "pause-client", "clock"})
	run := map[string]bool{}
	for _, c := range p.Cells {
		run[c.String()] = true
	}
	for _, want := range []string{"nolock / none", "nolock / pause-client", "redis-single / clock", "redis-single + fencing reads-writes / clock", "redlock / clock"} {
		if !run[want] {
			t.Errorf("%s not planned", want)
		}
	}
	skipped := map[string]string{}
	for _, s := range p.Skipped {
		skipped[s.Cell.String()] = s.Why
	}
	if w := skipped["nolock / clock"]; !strings.Contains(w, "no lock nodes") {
		t.Errorf("nolock / clock: %q", w)
	}
	if w := skipped["redlock + fencing reads-writes / none"]; !strings.Contains(w, "fencing tokens") {
		t.Errorf("fenced redlock: %q", w)
	}
	if len(p.Cells)+len(p.Skipped) != 3*2*3 {
		t.Errorf("%d planned + %d skipped, want every combination accounted for", len(p.Cells), len(p.Skipped))
	}
}

func backends(t *testing.T, names ...lock.Backend) []*backend.Backend {
	t.Helper()
	out := make([]*backend.Backend, len(names))
	for i, n := range names {
		b, err := backend.Get(n)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// Clock faults cannot reach etcd or ZooKeeper; their cells say so instead of passing as VALID.
func TestPlanSkipsClockWhereItCannotApply(t *testing.T) {
	p := NewPlan(backends(t, lock.Etcd, lock.ZooKeeper, lock.RedisSentinel),
		[]workload.Fencing{workload.NoFencing}, []string{NoFault, "clock"})
	skipped := map[string]string{}
	for _, s := range p.Skipped {
		skipped[s.Cell.String()] = s.Why
	}
	for _, c := range []string{"etcd / clock", "zookeeper / clock"} {
		if !strings.Contains(skipped[c], "not applicable") || !strings.Contains(skipped[c], "monotonic") {
			t.Errorf("%s: skipped with %q, want not applicable and why", c, skipped[c])
		}
	}
	if _, ok := skipped["redis-sentinel / clock"]; ok {
		t.Error("clock faults skipped on Sentinel's Redis nodes, which have the clock shim")
	}
	if len(p.Cells) != 4 {
		t.Errorf("%d cells planned, want 4", len(p.Cells))
	}
}

func TestCombine(t *testing.T) {
	for want, runs := range map[string][]string{
		"valid":   {"valid", "valid"},
		"invalid": {"valid", "unknown", "invalid"},
		"unknown": {"valid", "error"},
	} {
		var rs []RunSummary
		for _, v := range runs {
			rs = append(rs, RunSummary{Verdict: v})
		}
		if got := combine(rs); got != want {
			t.Errorf("combine(%v) = %s, want %s", runs, got, want)
		}
	}
}

func TestExpectations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.yaml")
	os.WriteFile(path, []byte("redlock:\n  none:\n    none: valid\n    clock: any\nnolock:\n  none:\n    none: invalid\n"), 0o644)
	e, err := LoadExpectations(path)
	if err != nil {
		t.Fatal(err)
	}
	results := []CellResult{
		{Cell: Cell{lock.Redlock, workload.NoFencing, NoFault}, Verdict: "invalid"},
		{Cell: Cell{lock.Redlock, workload.NoFencing, "clock"}, Verdict: "invalid"},
		{Cell: Cell{lock.NoLock, workload.NoFencing, NoFault}, Verdict: "invalid"},
		{Cell: Cell{lock.RedisSingle, workload.NoFencing, NoFault}, Verdict: "unknown"},
	}
	ms := e.Check(results)
	if len(ms) != 1 || ms[0].Cell.Backend != lock.Redlock || ms[0].Cell.Fault != NoFault {
		t.Errorf("mismatches %v: want only redlock / none (clock is 'any', redis-single unlisted)", ms)
	}
	os.WriteFile(path, []byte("redlock:\n  none:\n    none: maybe\n"), 0o644)
	if _, err := LoadExpectations(path); err == nil {
		t.Error("a verdict of 'maybe' was accepted")
	}
}

// The shipped expectations must parse and only name real backends, fencings and faults.
func TestShippedExpectations(t *testing.T) {
	e, err := LoadExpectations("../expected.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for b, fs := range e {
		if _, err := backend.Get(lock.Backend(b)); err != nil {
			t.Error(err)
		}
		for f, faults := range fs {
			if _, err := workload.ParseFencing(f); err != nil {
				t.Error(err)
			}
			for fault := range faults {
				_, kindErr := nemesis.Of(nemesis.Kind(fault))
				_, profileErr := explore.Of(fault)
				if fault != NoFault && kindErr != nil && profileErr != nil {
					t.Errorf("unknown fault %q", fault)
				}
			}
		}
	}
}

func TestMarkdown(t *testing.T) {
	m := &Matrix{
		Faults: []string{NoFault, "clock"},
		Cells: []CellResult{
			{Cell: Cell{lock.Redlock, workload.NoFencing, NoFault}, Verdict: "valid", Runs: []RunSummary{{Verdict: "valid", Throughput: 400, Dir: "redlock_none_none/redlock/x"}}},
			{Cell: Cell{lock.Redlock, workload.NoFencing, "clock"}, Verdict: "invalid", Invalid: 1,
				Runs: []RunSummary{{Verdict: "invalid", Anomalies: checker.Anomalies{LostUpdates: 2, Overlaps: 3}, Dir: "d"}}},
			{Cell: Cell{lock.Etcd, workload.FenceReadsWrites, NoFault}, Verdict: "valid", Runs: []RunSummary{{Verdict: "valid", Throughput: 40}}},
		},
		Skipped: []Skip{{Cell{lock.NoLock, workload.NoFencing, "clock"}, "nolock has no lock nodes to fault"},
			{Cell{lock.Etcd, workload.FenceReadsWrites, "clock"}, "clock faults are not applicable: monotonic"},
			{Cell{lock.Redlock, workload.FenceReadsWrites, NoFault}, "redlock has no monotonic fencing tokens to check"},
			{Cell{lock.Redlock, workload.FenceReadsWrites, "clock"}, "redlock has no monotonic fencing tokens to check"}},
		Scenarios: []ScenarioResult{
			{Name: "R1", Backend: "redis-sentinel", Fencing: "none", Expect: "invalid", Verdict: "invalid", Met: true, Anomalies: checker.Anomalies{LostUpdates: 1}, Dir: "scenarios/r"},
			{Name: "K1-W", Backend: "redis-single", Fencing: "writes-only", Expect: "invalid", Verdict: "valid", Error: "missing the anomalies its story needs: lost_updates"},
		},
		Mismatches: []string{"redlock / clock: expected valid, got invalid"},
	}
	var b strings.Builder
	m.Markdown(&b)
	out := b.String()
	if strings.Contains(out, "| redlock + fencing") {
		t.Errorf("a row with no cell run is in the table:\n%s", out)
	}
	for _, want := range []string{
		"| backend | none | clock |",
		"| redlock | **VALID** (not found in 1 run(s)); 400 ops/s [run 1](redlock_none_none/redlock/x) | **INVALID** (found in 1 of 1 run(s)) 2 lost, 3 overlaps; 0 ops/s [run 1](d) |",
		"| nolock | (not run) | — |",
		"nolock / clock: nolock has no lock nodes to fault",
		// A fenced row with one cell skipped shows the skip in place and names the cell...
		"| etcd + fencing reads-writes | **VALID** (not found in 1 run(s)); 40 ops/s | — |",
		"etcd + fencing reads-writes / clock: clock faults are not applicable",
		// ... a fenced row with nothing run is one line and no row.
		"- redlock + fencing reads-writes: redlock has no monotonic fencing tokens",
		"| R1 | redis-sentinel | INVALID | **INVALID** as expected | 1 lost [run](scenarios/r) |",
		"| K1-W | redis-single + fencing writes-only | INVALID | **VALID** — NOT as expected | missing the anomalies its story needs: lost_updates |",
		"Differs from the expectations",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("matrix.md lacks %q:\n%s", want, out)
		}
	}
}

// A faulted cell whose fault never took effect proves nothing: not valid, unknown.
func TestNoFaultIsNotValid(t *testing.T) {
	c := Cell{lock.RedisSingle, workload.FenceReadsWrites, "pause-client"}
	rs := RunSummary{Verdict: "valid", Faults: 0}
	noFault(&rs, c)
	if rs.Verdict != "unknown" || rs.Error == "" {
		t.Errorf("valid without a fault: %+v, want unknown with a reason", rs)
	}
	for _, rs := range []RunSummary{{Verdict: "valid", Faults: 1}, {Verdict: "invalid", Faults: 0}} {
		before := rs.Verdict
		noFault(&rs, c)
		if rs.Verdict != before {
			t.Errorf("%+v changed to %s", rs, rs.Verdict)
		}
	}
	rs = RunSummary{Verdict: "valid"}
	noFault(&rs, Cell{lock.Redlock, workload.NoFencing, NoFault})
	if rs.Verdict != "valid" {
		t.Error("the no-fault column needs no fault")
	}
}

// A cell says how hard it looked: VALID is "not found in n runs of d seconds", INVALID in how many
// and how soon.
func TestDetection(t *testing.T) {
	run := func(verdict string, first float64) RunSummary {
		return RunSummary{Verdict: verdict, FirstAnomalyS: first, Liveness: checker.Liveness{WorkloadS: 12}}
	}
	valid := CellResult{Verdict: "valid", Runs: []RunSummary{run("valid", 0), run("valid", 0), run("valid", 0)}}
	if got := valid.Detection(); got != "not found in 3 run(s) of 12s" {
		t.Errorf("valid cell: %q", got)
	}
	invalid := CellResult{Verdict: "invalid", Invalid: 3, Runs: []RunSummary{run("invalid", 4), run("valid", 0), run("invalid", 1), run("invalid", 9)}}
	if got := invalid.Detection(); got != "found in 3 of 4 run(s) of 12s, first anomaly after 4.0s (median)" {
		t.Errorf("invalid cell: %q", got)
	}
	// Runs where the lock service handed the lock out twice are told apart from a slow client's,
	// also in a cell the fence kept VALID.
	inLeases := run("invalid", 2)
	inLeases.Anomalies.OverlapsWithinValidity = 3
	outlived := run("invalid", 5)
	outlived.Anomalies.Overlaps = 1
	mixed := CellResult{Verdict: "invalid", Invalid: 2, Runs: []RunSummary{inLeases, outlived}}
	if got := mixed.Detection(); got != "found in 2 of 2 run(s) of 12s, first anomaly after 3.5s (median); two holders inside their leases in 1" {
		t.Errorf("mixed cell: %q", got)
	}
	fenced := run("valid", 0)
	fenced.Anomalies.OverlapsWithinValidity = 1
	if got := (CellResult{Verdict: "valid", Runs: []RunSummary{fenced, run("valid", 0)}}).Detection(); got != "not found in 2 run(s) of 12s; two holders inside their leases in 1" {
		t.Errorf("fenced cell: %q", got)
	}
	if got := (CellResult{Runs: []RunSummary{{Verdict: "error", Error: "no docker"}}}).Detection(); got != "" {
		t.Errorf("a cell whose runs all failed claims %q", got)
	}
}

// An exploration profile is a column like a fault kind: planned where one of its moves applies,
// skipped with the reason where none does.
func TestPlanProfiles(t *testing.T) {
	p := NewPlan(backends(t, lock.Redlock, lock.NoLock), []workload.Fencing{workload.NoFencing}, []string{"kleppmann"})
	if len(p.Cells) != 2 {
		t.Errorf("cells %v, skipped %v: want redlock and nolock (delayed writes need no lock nodes)", p.Cells, p.Skipped)
	}
}

// The line above the table says how a cell was run: the fault interval describes a fault-kind
// column, never a profile column, whose rounds draw their own durations.
func TestParamsLine(t *testing.T) {
	params := MatrixParams{Clients: 5, TTL: "2s", TimeLimit: "60s", FaultInterval: "4s", Runs: 12, Seed: 1}
	for _, tc := range []struct {
		faults        []string
		want, wantNot []string
	}{
		{[]string{NoFault, "clock"}, []string{"12 run(s) of 60s, 5 clients, ttl 2s, seed 1 + cell", "one fault at a time, each lasting 4s"}, []string{"profile column"}},
		{[]string{"kleppmann"}, []string{"a profile column (kleppmann) plays rounds", "relative to the ttl"}, []string{"4s"}},
		{[]string{NoFault, "kill", "kleppmann"}, []string{"each lasting 4s", "a profile column (kleppmann)"}, nil},
		{[]string{NoFault}, []string{"seed 1 + cell."}, []string{"each lasting", "profile column"}},
	} {
		m := &Matrix{Faults: tc.faults, Params: params}
		var md strings.Builder
		m.Markdown(&md)
		page := buildMatrixPage(m).Params
		for _, got := range []string{md.String(), page} {
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("faults %v: %q not in %q", tc.faults, w, got)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("faults %v: %q in %q", tc.faults, w, got)
				}
			}
		}
	}
}
