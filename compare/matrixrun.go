package compare

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/report"
)

// Spec is a whole comparison: the matrix's cells, then the scripted scenarios, checked against
// the expectations and written to a results directory.
type Spec struct {
	Plan Plan
	// Base holds every test parameter but those a cell or scenario sets (see Params.Base).
	// Base.Status, if set, sees the progress of the cells' runs only; scenarios run without it.
	// Base.Log gets the warning when the latest link cannot be updated.
	Base harness.Params
	// Runs is how many times each cell runs, with different seeds (less than 1 is once).
	Runs int
	// Scenarios are the scenarios to play after the cells (shipped names or files; see
	// RunScenarios). None are played when the cells were cut short.
	Scenarios []string
	// Expect are the cells' expected verdicts; nil checks none. A scenario carries its own.
	Expect Expectations
	// ReuseClusters runs the cells of one backend on one cluster instead of a fresh one each.
	ReuseClusters bool
	// ResultsDir is the base directory: the matrix goes to ResultsDir/compare/<timestamp>, and
	// ResultsDir/compare/latest points at it. (Base.ResultsDir is not used.)
	ResultsDir string
	// JUnit, if set, is the path of a JUnit report: a case per cell and per scenario.
	JUnit string
	// Started is when the comparison started (it names the directory); zero is now.
	Started time.Time
	// Shard, unless whole, runs only that part of Plan and Scenarios (see Part); the matrix
	// records the whole plan so that `compare merge` can join the parts.
	Shard Shard

	// The callbacks, each optional, are called on RunMatrix's goroutine.
	//
	// Begin is called once the matrix directory exists, before the first cell runs.
	Begin func()
	// Progress is called after each run of a cell (see Params.Progress).
	Progress func(done, total int, c Cell, run RunSummary)
	// ScenarioProgress is called after each scenario played.
	ScenarioProgress func(ScenarioResult)
	// End is called when the cells and scenarios are over (done or cut short), before anything
	// is written: a terminal view closes there, so what follows prints below it.
	End func()
}

// Status is how a comparison ended, the first that applies of: interrupted, incomplete,
// mismatched, passed.
type Status int

const (
	// StatusPassed: every cell ran, and every cell and scenario reached its expected verdict.
	StatusPassed Status = iota
	// StatusInterrupted: the context ended first; the cell cut short and those after it are not
	// run (see Run).
	StatusInterrupted
	// StatusIncomplete: some cells did not run, without an interruption.
	StatusIncomplete
	// StatusMismatched: a cell differs from Spec.Expect, or a scenario from its file's verdict.
	StatusMismatched
)

func (s Status) String() string {
	switch s {
	case StatusPassed:
		return "passed"
	case StatusInterrupted:
		return "interrupted"
	case StatusIncomplete:
		return "incomplete"
	case StatusMismatched:
		return "mismatched"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Outcome is what RunMatrix decided.
type Outcome struct {
	Status Status
	// Dir is the matrix's results directory (matrix.md, matrix.html, matrix.json, the runs).
	Dir string
	// Ran is how many cells ran, of the Planned ones.
	Ran, Planned int
	// Mismatches are the matrix's Mismatches: the cells and scenarios that differ.
	Mismatches []string
}

// RunMatrix runs a comparison: every cell of the plan (Run), then the scenarios (RunScenarios)
// unless ctx ended; it assembles the Matrix, with the cells that differ from s.Expect and the
// scenarios that missed their verdict as mismatches, writes matrix.json, matrix.md and
// matrix.html into a new directory under s.ResultsDir, points the latest link at it, writes the
// JUnit report if asked, and says how it ended. The error is about the results that could not be
// written (or the directory made), not about the verdicts: an Outcome tells those.
func RunMatrix(ctx context.Context, s Spec) (*Matrix, Outcome, error) {
	dir, started, err := newMatrixDir(s.ResultsDir, s.Started)
	if err != nil {
		return nil, Outcome{}, err
	}
	if s.Begin != nil {
		s.Begin()
	}
	plan, refs := s.Part()
	results := Run(ctx, Params{Base: s.Base, Runs: s.Runs, Dir: dir, ReuseClusters: s.ReuseClusters, Progress: s.Progress}, plan)
	var played []ScenarioResult
	if len(refs) > 0 && ctx.Err() == nil {
		p := s.Base
		p.Status = nil
		played = RunScenarios(ctx, p, refs, dir, s.ScenarioProgress)
	}
	if s.End != nil {
		s.End()
	}
	m := assemble(s, started, ctx.Err() != nil, results, played)
	if !s.Shard.Whole() {
		m.Shard = &ShardInfo{Shard: s.Shard, Plan: s.key(), Cells: plan.Cells, Scenarios: refs}
	}
	o := decide(plan, m, dir)
	log := s.Base.Log
	if log == nil {
		log = slog.Default()
	}
	return m, o, m.publish(dir, s.ResultsDir, s.JUnit, s.Expect, log)
}

// publish writes the matrix into dir (matrix.json, matrix.md, matrix.html), points
// resultsDir/compare/latest at it (a link that cannot be updated is only worth a warning: the
// results are written) and writes the JUnit report if junit is set.
func (m *Matrix) publish(dir, resultsDir, junit string, expect Expectations, log *slog.Logger) error {
	if err := m.Write(dir); err != nil {
		return err
	}
	if err := WriteMatrixPage(dir, m); err != nil {
		return err
	}
	if err := report.PointLatest(filepath.Join(resultsDir, "compare"), dir); err != nil {
		log.Warn("latest link not updated", "err", err)
	}
	if junit != "" {
		return report.WriteJUnit(junit, "locktest compare", append(junitCases(m.Cells, expect), scenarioCases(m.Scenarios)...))
	}
	return nil
}

// newMatrixDir makes a new matrix directory under resultsDir/compare, named after started (zero
// is now), and returns it with the time it is named after.
func newMatrixDir(resultsDir string, started time.Time) (string, time.Time, error) {
	if started.IsZero() {
		started = time.Now()
	}
	dir, err := report.NewRunDir(resultsDir, "compare", started)
	return dir, started, err
}

// Part is what this comparison runs: the whole plan and scenarios, or shard s.Shard's part of them.
func (s Spec) Part() (Plan, []string) {
	return shardOf(s.Plan, s.Runs, s.Base.TimeLimit, s.Scenarios, s.Shard)
}

// key is the whole comparison, as shards record it.
func (s Spec) key() PlanKey {
	return PlanKey{Version: s.Base.Version, Config: s.Base.Run, Runs: max(s.Runs, 1), ReuseClusters: s.ReuseClusters,
		Faults: s.Plan.Faults, Cells: s.Plan.Cells, Skipped: s.Plan.Skipped, Scenarios: s.Scenarios}
}

// assemble makes the Matrix of what ran: mismatches are the cells that differ from the
// expectations, then the scenarios that missed their own.
func assemble(s Spec, started time.Time, interrupted bool, results []CellResult, played []ScenarioResult) *Matrix {
	p := s.Base
	m := &Matrix{
		Started: started.UTC().Format(time.RFC3339), Duration: Since(started), Interrupted: interrupted,
		Faults: s.Plan.Faults, Cells: results, Skipped: s.Plan.Skipped, Scenarios: played,
		Params: MatrixParams{Clients: p.Clients, Nodes: p.Nodes, TTL: p.TTL.String(), TimeLimit: p.TimeLimit.String(),
			FaultInterval: p.FaultInterval.String(), Runs: s.Runs, Seed: p.Seed},
	}
	m.Mismatches = mismatches(s.Expect, results, played)
	return m
}

// mismatches are the cells that differ from the expectations, then the scenarios that missed
// their own (a scenario carries its expectation, with expectations or without).
func mismatches(expect Expectations, cells []CellResult, played []ScenarioResult) []string {
	var out []string
	for _, mm := range expect.Check(cells) {
		out = append(out, mm.String())
	}
	for _, r := range played {
		if !r.Met {
			out = append(out, fmt.Sprintf("scenario %s: expected %s, got %s", r.Name, r.Expect, r.Verdict))
		}
	}
	return out
}

// decide says how the comparison ended: an interruption first (its cells are missing because of
// it), then cells missing for another reason, then mismatches.
func decide(plan Plan, m *Matrix, dir string) Outcome {
	o := Outcome{Dir: dir, Ran: len(m.Cells), Planned: len(plan.Cells), Mismatches: m.Mismatches}
	switch {
	case m.Interrupted:
		o.Status = StatusInterrupted
	case o.Ran < o.Planned:
		o.Status = StatusIncomplete
	case len(m.Mismatches) > 0:
		o.Status = StatusMismatched
	}
	return o
}

// junitCases makes a test case per cell: with expectations, a cell fails when it differs from
// them (an INVALID cell is often the expected evidence); without, when it is invalid.
func junitCases(results []CellResult, expect Expectations) []report.JUnitCase {
	var cases []report.JUnitCase
	for _, r := range results {
		c := report.JUnitCase{Class: "locktest.compare." + string(r.Backend), Name: r.String()}
		var detail []string
		for _, run := range r.Runs {
			detail = append(detail, fmt.Sprintf("seed %d: %s %+v %s", run.Seed, run.Verdict, run.Anomalies, run.Dir))
			c.Seconds += run.Seconds
		}
		c.Detail = strings.Join(detail, "\n")
		want := expect.For(r.Cell)
		switch {
		case r.Verdict == "unknown":
			c.Error = "verdict unknown"
		case want != "" && want != r.Verdict:
			c.Failure = fmt.Sprintf("expected %s, got %s", want, r.Verdict)
		case expect == nil && r.Verdict == "invalid":
			c.Failure = "invalid: " + r.Label()
		}
		cases = append(cases, c)
	}
	return cases
}

// scenarioCases are the JUnit cases of the scenarios: a failure when one did not reach the verdict
// its file expects.
func scenarioCases(played []ScenarioResult) []report.JUnitCase {
	var cases []report.JUnitCase
	for _, r := range played {
		c := report.JUnitCase{Class: "locktest.compare.scenarios", Name: r.Name + " (" + r.Backend + ")",
			Detail: fmt.Sprintf("%s: %s %+v %s", r.File, r.Verdict, r.Anomalies, r.Dir), Seconds: r.Seconds}
		if !r.Met {
			c.Failure = fmt.Sprintf("expected %s, got %s", r.Expect, r.Verdict)
			if r.Error != "" {
				c.Failure += ": " + r.Error
			}
		}
		cases = append(cases, c)
	}
	return cases
}
