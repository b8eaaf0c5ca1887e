package compare

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/workload"
)

// fakeTests replaces runTest for one test: the n-th call (from 0) gets outcome(n) with ctx, and
// cancel is called as the call given by cancelAt starts, as a Ctrl-C during that run would.
func fakeTests(t *testing.T, cancel context.CancelFunc, cancelAt int, outcome func(n int, ctx context.Context) (*harness.Outcome, error)) *int {
	calls := 0
	orig := runTest
	t.Cleanup(func() { runTest = orig })
	runTest = func(ctx context.Context, p harness.Params) (*harness.Outcome, error) {
		n := calls
		calls++
		if n == cancelAt {
			cancel()
		}
		return outcome(n, ctx)
	}
	return &calls
}

func valid(interrupted bool) *harness.Outcome {
	return &harness.Outcome{Dir: "d", Results: &report.Results{Result: &checker.Result{Valid: checker.Valid}, Interrupted: interrupted}}
}

// A run cut short by Ctrl-C makes its cell not run: neither its partial VALID nor the finished
// runs of the same cell reach the matrix, and no later cell runs.
func TestRunLeavesInterruptedCellsOut(t *testing.T) {
	plan := Plan{Cells: []Cell{
		{lock.RedisSingle, workload.NoFencing, NoFault},
		{lock.RedisSingle, workload.NoFencing, "pause-client"},
		{lock.Redlock, workload.NoFencing, NoFault},
	}}
	for _, tc := range []struct {
		name     string
		outcome  func(n int, ctx context.Context) (*harness.Outcome, error)
		cancelAt int // the call during which Ctrl-C comes
	}{
		{"partial results", func(n int, ctx context.Context) (*harness.Outcome, error) {
			return valid(ctx.Err() != nil), nil
		}, 3},
		{"an error caused by the interruption", func(n int, ctx context.Context) (*harness.Outcome, error) {
			if ctx.Err() != nil {
				return nil, errors.New("start node n1: context canceled")
			}
			return valid(false), nil
		}, 3},
		{"a run that finished as Ctrl-C came", func(n int, ctx context.Context) (*harness.Outcome, error) {
			return valid(false), nil // not interrupted itself, but its cell's last run never starts
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := fakeTests(t, cancel, tc.cancelAt, tc.outcome)
			var progress []string
			res := Run(ctx, Params{Runs: 2, Dir: t.TempDir(), Progress: func(done, total int, c Cell, r RunSummary) {
				progress = append(progress, c.String()+" "+r.Verdict)
			}}, plan)
			if len(res) != 1 || res[0].Cell != plan.Cells[0] || len(res[0].Runs) != 2 || res[0].Verdict != "valid" {
				t.Fatalf("cells %+v: want only the first cell, with its 2 runs", res)
			}
			if *calls != tc.cancelAt+1 {
				t.Errorf("%d runs started, want %d: nothing after the interruption", *calls, tc.cancelAt+1)
			}
			// Three runs finished (the first cell's two, the second cell's first); a run cut short
			// is not reported even as progress.
			if len(progress) != 3 {
				t.Errorf("progress reported %q, want the 3 runs that finished", progress)
			}
		})
	}
}

// A scenario cut short is not played: it is not in the results, so it is neither met nor missed.
func TestScenarioCutShortIsLeftOut(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fakeTests(t, cancel, 1, func(n int, ctx context.Context) (*harness.Outcome, error) {
		o := valid(ctx.Err() != nil)
		o.Results.Scenario = &report.ScenarioOutcome{Met: ctx.Err() == nil}
		return o, nil
	})
	base := harness.Params{Run: config.Run{Clients: 3}}
	got := RunScenarios(ctx, base, []string{"K1-W", "R1", "K3"}, t.TempDir(), nil)
	if len(got) != 1 || got[0].Name != "K1-W" {
		t.Fatalf("scenarios %+v: want only K1-W, played before the interruption", got)
	}
}

func TestMarkdownSaysInterrupted(t *testing.T) {
	var b strings.Builder
	(&Matrix{Faults: []string{NoFault}, Interrupted: true}).Markdown(&b)
	if !strings.Contains(b.String(), "**Interrupted**") {
		t.Errorf("matrix.md of an interrupted matrix:\n%s", b.String())
	}
}
