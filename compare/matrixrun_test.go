package compare

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/scenarios"
	"github.com/locktest/locktest/workload"
)

// fakeRunner replaces runTest for one test with run; its runs are not containers but outcomes
// made up from the parameters.
func fakeRunner(t *testing.T, run func(ctx context.Context, p harness.Params) (*harness.Outcome, error)) {
	orig := runTest
	t.Cleanup(func() { runTest = orig })
	runTest = run
}

// outcome is a finished run's outcome: its directory under p's results directory, as the harness
// makes it.
func outcome(p harness.Params, v checker.Validity, a checker.Anomalies) *harness.Outcome {
	return &harness.Outcome{Dir: filepath.Join(p.ResultsDir, "run"),
		Results: &report.Results{Result: &checker.Result{Valid: v, Anomalies: a}}}
}

// testPlan is nolock and redis-single with no fault and node pauses: three cells, and nolock's
// pauses skipped (it has no lock nodes).
func testPlan(t *testing.T) Plan {
	return NewPlan(backends(t, lock.NoLock, lock.RedisSingle), []workload.Fencing{workload.NoFencing}, []string{NoFault, "pause-node"})
}

func testBase() harness.Params {
	return harness.Params{Run: config.Run{Clients: 3, Nodes: 1, TTL: 2 * time.Second, TimeLimit: 12 * time.Second, FaultInterval: 4 * time.Second, Seed: 100}}
}

// RunMatrix runs the cells, then the scenarios, and assembles and writes what they found: the
// mismatches of --expect and of the scenarios' own expectations, the files, the latest link, the
// JUnit report, and an outcome saying the matrix differs from what is expected.
func TestRunMatrixAssembles(t *testing.T) {
	r1, _, err := scenarios.Find("R1")
	if err != nil {
		t.Fatal(err)
	}
	var (
		events  []string
		seeds   []int64
		results = t.TempDir()
		junit   = filepath.Join(t.TempDir(), "junit.xml")
	)
	event := func(e string) { events = append(events, e) }
	fakeRunner(t, func(ctx context.Context, p harness.Params) (*harness.Outcome, error) {
		if p.ScenarioFile != "" {
			event("scenario run, status " + map[bool]string{true: "set", false: "unset"}[p.Status != nil])
			o := outcome(p, checker.Valid, checker.Anomalies{})
			// K1-W meets its expectation; R1 does not.
			o.Results.Scenario = &report.ScenarioOutcome{Met: strings.Contains(p.ScenarioFile, "k1w")}
			if !o.Results.Scenario.Met {
				o.Results.Scenario.Error = "the failover never happened"
			}
			return o, nil
		}
		event("cell run, status " + map[bool]string{true: "set", false: "unset"}[p.Status != nil])
		seeds = append(seeds, p.Seed)
		if !strings.HasPrefix(p.ResultsDir, results) {
			t.Errorf("run results in %s, want under %s", p.ResultsDir, results)
		}
		if p.Backend == lock.NoLock {
			return outcome(p, checker.Invalid, checker.Anomalies{LostUpdates: 3}), nil
		}
		// Valid; with pause-node, a pause that never took effect makes the cell unknown.
		return outcome(p, checker.Valid, checker.Anomalies{}), nil
	})
	base := testBase()
	base.ResultsDir = "elsewhere" // not used: Spec.ResultsDir is
	base.Status = func(harness.Progress) {}
	plan := testPlan(t)
	expect := Expectations{"nolock": {"none": {"none": "invalid"}}, "redis-single": {"none": {"none": "invalid", "pause-node": "any"}}}
	started := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	m, o, err := RunMatrix(context.Background(), Spec{
		Plan: plan, Base: base, Runs: 2, Scenarios: []string{"K1-W", "R1"}, Expect: expect,
		ResultsDir: results, JUnit: junit, Started: started,
		Begin: func() { event("begin") },
		Progress: func(done, total int, c Cell, r RunSummary) {
			event("progress " + c.String() + " " + r.Verdict)
			if done > total || total != 6 {
				t.Errorf("progress %d/%d, want of 6", done, total)
			}
		},
		ScenarioProgress: func(r ScenarioResult) { event("scenario " + r.Name) },
		End: func() {
			if _, err := os.Stat(filepath.Join(results, "compare", "latest")); err == nil {
				t.Error("the matrix was written before End")
			}
			event("end")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantEvents := []string{"begin",
		"cell run, status set", "progress nolock / none invalid", "cell run, status set", "progress nolock / none invalid",
		"cell run, status set", "progress redis-single / none valid", "cell run, status set", "progress redis-single / none valid",
		"cell run, status set", "progress redis-single / pause-node unknown", "cell run, status set", "progress redis-single / pause-node unknown",
		"scenario run, status unset", "scenario K1-W", "scenario run, status unset", "scenario R1", "end"}
	if !reflect.DeepEqual(events, wantEvents) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(wantEvents, "\n"))
	}
	if want := []int64{100, 101, 1100, 1101, 2100, 2101}; !reflect.DeepEqual(seeds, want) {
		t.Errorf("seeds %v, want %v (base + 1000·cell + run)", seeds, want)
	}

	// The matrix.
	wantMismatches := []string{"redis-single / none: expected invalid, got valid", "scenario R1: expected " + r1.Expect + ", got valid"}
	if !reflect.DeepEqual(m.Mismatches, wantMismatches) {
		t.Errorf("mismatches %q, want %q", m.Mismatches, wantMismatches)
	}
	if m.Started != "2024-05-06T07:08:09Z" || m.Interrupted || !reflect.DeepEqual(m.Faults, []string{NoFault, "pause-node"}) {
		t.Errorf("matrix started %q, interrupted %v, faults %v", m.Started, m.Interrupted, m.Faults)
	}
	wantParams := MatrixParams{Clients: 3, Nodes: 1, TTL: "2s", TimeLimit: "12s", FaultInterval: "4s", Runs: 2, Seed: 100}
	if m.Params != wantParams {
		t.Errorf("params %+v, want %+v", m.Params, wantParams)
	}
	var verdicts []string
	for _, c := range m.Cells {
		verdicts = append(verdicts, c.String()+" "+c.Verdict)
	}
	if want := []string{"nolock / none invalid", "redis-single / none valid", "redis-single / pause-node unknown"}; !reflect.DeepEqual(verdicts, want) {
		t.Errorf("cells %q, want %q", verdicts, want)
	}
	if len(m.Skipped) != 1 || m.Skipped[0].Cell.String() != "nolock / pause-node" {
		t.Errorf("skipped %+v, want nolock / pause-node", m.Skipped)
	}
	if len(m.Scenarios) != 2 || !m.Scenarios[0].Met || m.Scenarios[1].Met || m.Scenarios[1].Error != "the failover never happened" {
		t.Errorf("scenarios %+v, want K1-W met, R1 not", m.Scenarios)
	}

	// The outcome.
	if o.Status != StatusMismatched || o.Ran != 3 || o.Planned != 3 || !reflect.DeepEqual(o.Mismatches, m.Mismatches) {
		t.Errorf("outcome %+v, want mismatched, 3 of 3 cells, the matrix's mismatches", o)
	}
	if filepath.Dir(o.Dir) != filepath.Join(results, "compare") || filepath.Base(o.Dir) != started.Format("20060102T150405.000") {
		t.Errorf("matrix directory %s, want results/compare/<started>", o.Dir)
	}

	// The files.
	var written Matrix
	b, err := os.ReadFile(filepath.Join(o.Dir, "matrix.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &written); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(written.Mismatches, wantMismatches) || len(written.Cells) != 3 || written.Cells[0].Runs[0].Dir != filepath.Join("nolock_none_none", "run") {
		t.Errorf("matrix.json: %s", b)
	}
	var md strings.Builder
	m.Markdown(&md)
	if b, err := os.ReadFile(filepath.Join(o.Dir, "matrix.md")); err != nil || string(b) != md.String() {
		t.Errorf("matrix.md (%v) is not the matrix's Markdown:\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(o.Dir, MatrixPageFile)); err != nil {
		t.Error(err)
	}
	if dst, err := filepath.EvalSymlinks(filepath.Join(results, "compare", "latest")); err != nil || filepath.Base(dst) != filepath.Base(o.Dir) {
		t.Errorf("latest link: %s, %v; want %s", dst, err, o.Dir)
	}
	// JUnit: the cells, then the scenarios; redis-single / none differs, its pauses are unknown,
	// R1 missed its verdict.
	b, err = os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`tests="5" failures="2" errors="1"`, `name="redis-single / none"`, `message="expected invalid, got valid"`,
		`message="verdict unknown"`, `classname="locktest.compare.scenarios" name="R1 (`, `got valid: the failover never happened"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("junit lacks %q:\n%s", want, b)
		}
	}
}

// How a matrix ends: interrupted before incomplete before mismatched; an interrupted one plays no
// scenario and is still written.
func TestRunMatrixOutcome(t *testing.T) {
	for _, tc := range []struct {
		name string
		// run is the n-th run's outcome (from 0); cancel is called as run cancelAt starts.
		run       func(n int, ctx context.Context, p harness.Params) (*harness.Outcome, error)
		cancelAt  int
		expect    Expectations
		want      Status
		ran       int
		scenarios int
	}{
		{"every cell as expected", func(n int, ctx context.Context, p harness.Params) (*harness.Outcome, error) {
			o := outcome(p, checker.Valid, checker.Anomalies{})
			o.Results.Faults = []checker.FaultWindow{{Outcome: checker.FaultHealed}}
			o.Results.Scenario = &report.ScenarioOutcome{Met: true}
			return o, nil
		}, -1, nil, StatusPassed, 3, 1},
		{"a cell differs", func(n int, ctx context.Context, p harness.Params) (*harness.Outcome, error) {
			return outcome(p, checker.Invalid, checker.Anomalies{Overlaps: 1}), nil
		}, -1, Expectations{"redis-single": {"none": {"none": "valid"}}}, StatusMismatched, 3, 1},
		{"interrupted, with a cell that differs", func(n int, ctx context.Context, p harness.Params) (*harness.Outcome, error) {
			o := outcome(p, checker.Invalid, checker.Anomalies{Overlaps: 1})
			o.Results.Interrupted = ctx.Err() != nil
			return o, nil
		}, 2, Expectations{"nolock": {"none": {"none": "valid"}}}, StatusInterrupted, 2, 0},
		{"a run that stopped short without an interruption", func(n int, ctx context.Context, p harness.Params) (*harness.Outcome, error) {
			o := outcome(p, checker.Valid, checker.Anomalies{})
			o.Results.Interrupted = n == 1
			return o, nil
		}, -1, nil, StatusIncomplete, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls, scenarioRuns := 0, 0
			fakeRunner(t, func(ctx context.Context, p harness.Params) (*harness.Outcome, error) {
				n := calls
				calls++
				if p.ScenarioFile != "" {
					scenarioRuns++
				}
				if n == tc.cancelAt {
					cancel()
				}
				return tc.run(n, ctx, p)
			})
			m, o, err := RunMatrix(ctx, Spec{Plan: testPlan(t), Base: testBase(), Runs: 1, Scenarios: []string{"K1-W"},
				Expect: tc.expect, ResultsDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != tc.want || o.Ran != tc.ran || o.Planned != 3 || len(m.Cells) != tc.ran {
				t.Errorf("outcome %v, %d of %d cells ran; want %v, %d of 3", o.Status, o.Ran, o.Planned, tc.want, tc.ran)
			}
			if scenarioRuns != tc.scenarios || len(m.Scenarios) != tc.scenarios {
				t.Errorf("%d scenario(s) played, %d in the matrix; want %d", scenarioRuns, len(m.Scenarios), tc.scenarios)
			}
			if m.Interrupted != (tc.want == StatusInterrupted) {
				t.Errorf("matrix interrupted: %v", m.Interrupted)
			}
			if _, err := os.Stat(filepath.Join(o.Dir, "matrix.json")); err != nil {
				t.Error(err)
			}
		})
	}
}

// A results directory that cannot be made is an error, before anything runs.
func TestRunMatrixUnwritable(t *testing.T) {
	fakeRunner(t, func(context.Context, harness.Params) (*harness.Outcome, error) {
		t.Error("a run started")
		return nil, nil
	})
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	began := false
	if _, _, err := RunMatrix(context.Background(), Spec{Plan: testPlan(t), ResultsDir: file, Begin: func() { began = true }}); err == nil || began {
		t.Errorf("results under a file: err %v, began %v; want an error before Begin", err, began)
	}
}

func TestJUnitCases(t *testing.T) {
	cell := func(b lock.Backend, fault, verdict string, runs ...RunSummary) CellResult {
		cr := CellResult{Cell: Cell{b, workload.NoFencing, fault}, Verdict: verdict, Runs: runs}
		for _, r := range runs {
			if r.Verdict == "invalid" {
				cr.Invalid++
			}
		}
		return cr
	}
	results := []CellResult{
		cell(lock.NoLock, NoFault, "invalid", RunSummary{Seed: 1, Verdict: "invalid", Anomalies: checker.Anomalies{LostUpdates: 2}, Dir: "a", Seconds: 1.5},
			RunSummary{Seed: 2, Verdict: "invalid", Dir: "b", Seconds: 2}),
		cell(lock.RedisSingle, NoFault, "valid", RunSummary{Verdict: "valid"}),
		cell(lock.RedisSingle, "pause-node", "unknown", RunSummary{Verdict: "unknown"}),
		cell(lock.Redlock, "clock", "invalid", RunSummary{Verdict: "invalid"}),
	}
	type want struct{ failure, error string }
	for _, tc := range []struct {
		name   string
		expect Expectations
		want   []want
	}{
		// Without expectations an invalid cell fails.
		{"without expectations", nil, []want{{"invalid: INVALID 2/2", ""}, {}, {"", "verdict unknown"}, {"invalid: INVALID", ""}}},
		// With them, a cell fails when it differs: an expected INVALID passes, an unlisted or
		// "any" cell is not checked, unknown is an error either way.
		{"with expectations", Expectations{"nolock": {"none": {"none": "invalid"}}, "redis-single": {"none": {"none": "invalid", "pause-node": "valid"}},
			"redlock": {"none": {"clock": "any"}}},
			[]want{{}, {"expected invalid, got valid", ""}, {"", "verdict unknown"}, {}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cases := junitCases(results, tc.expect)
			if len(cases) != len(results) {
				t.Fatalf("%d cases for %d cells", len(cases), len(results))
			}
			for i, c := range cases {
				if c.Failure != tc.want[i].failure || c.Error != tc.want[i].error {
					t.Errorf("%s: failure %q error %q, want %q %q", c.Name, c.Failure, c.Error, tc.want[i].failure, tc.want[i].error)
				}
			}
		})
	}
	c := junitCases(results[:1], nil)[0]
	detail := fmt.Sprintf("seed 1: invalid %+v a\nseed 2: invalid %+v b", checker.Anomalies{LostUpdates: 2}, checker.Anomalies{})
	if c.Class != "locktest.compare.nolock" || c.Name != "nolock / none" || c.Seconds != 3.5 || c.Detail != detail {
		t.Errorf("case %+v, want its runs' seeds, verdicts, anomalies and directories, and their time summed", c)
	}
}

func TestScenarioCases(t *testing.T) {
	none := fmt.Sprintf("%+v", checker.Anomalies{})
	cases := scenarioCases([]ScenarioResult{
		{Name: "K1-W", File: "scenarios/k1w.yaml", Backend: "redis-single", Expect: "invalid", Verdict: "invalid", Met: true, Dir: "scenarios/x", Seconds: 20},
		{Name: "R1", Backend: "redis-sentinel", Expect: "invalid", Verdict: "valid"},
		{Name: "K3", Backend: "redlock", Expect: "invalid", Verdict: "error", Error: "clock shim missing"},
	})
	want := []report.JUnitCase{
		{Class: "locktest.compare.scenarios", Name: "K1-W (redis-single)", Seconds: 20, Detail: "scenarios/k1w.yaml: invalid " + none + " scenarios/x"},
		{Class: "locktest.compare.scenarios", Name: "R1 (redis-sentinel)", Failure: "expected invalid, got valid", Detail: ": valid " + none + " "},
		{Class: "locktest.compare.scenarios", Name: "K3 (redlock)", Failure: "expected invalid, got error: clock shim missing", Detail: ": error " + none + " "},
	}
	if !reflect.DeepEqual(cases, want) {
		t.Errorf("cases:\n%+v\nwant:\n%+v", cases, want)
	}
}

// The precedence of the outcome: an interruption explains missing cells and hides mismatches.
func TestDecide(t *testing.T) {
	plan := Plan{Cells: make([]Cell, 3)}
	cells := func(n int) []CellResult { return make([]CellResult, n) }
	for _, tc := range []struct {
		m    Matrix
		want Status
	}{
		{Matrix{Cells: cells(3)}, StatusPassed},
		{Matrix{Cells: cells(3), Mismatches: []string{"x"}}, StatusMismatched},
		{Matrix{Cells: cells(2), Mismatches: []string{"x"}}, StatusIncomplete},
		{Matrix{Cells: cells(2), Mismatches: []string{"x"}, Interrupted: true}, StatusInterrupted},
		{Matrix{Cells: cells(3), Interrupted: true}, StatusInterrupted},
	} {
		if got := decide(plan, &tc.m, "d"); got.Status != tc.want || got.Ran != len(tc.m.Cells) || got.Planned != 3 || got.Dir != "d" {
			t.Errorf("%+v: %+v, want %v", tc.m, got, tc.want)
		}
	}
}

// Quick is what --quick means; the flag's help is made from it and must read as it always did.
func TestQuick(t *testing.T) {
	if got, want := Quick.String(), "a first look in about 6 minutes: faults none and pause-client, scenarios K1-W and R1"; got != want {
		t.Errorf("Quick says %q, want %q", got, want)
	}
	for _, f := range Quick.Faults {
		if f == NoFault {
			continue
		}
		if _, err := nemesis.ParseKinds(f); err != nil {
			t.Errorf("quick fault %q: %v", f, err)
		}
	}
	for _, s := range Quick.Scenarios {
		if _, _, err := scenarios.Find(s); err != nil {
			t.Errorf("quick scenario %q: %v", s, err)
		}
	}
}
