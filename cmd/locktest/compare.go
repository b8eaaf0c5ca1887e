package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/backend"
	"github.com/locktest/locktest/compare"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/explore"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/termview"
	"github.com/locktest/locktest/workload"
)

func newCompareCmd() *cobra.Command {
	var (
		backends, fencings, faults, expectFile, junit, scenarioList, shardFlag string
		runs                                                                   int
		quick, verbose, fresh                                                  bool
		p                                                                      = harness.Params{}
	)
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Run every backend under every fault and tabulate the verdicts",
		Long: `Runs the matrix backend × fencing × fault: each cell is a test whose nemesis injects only that
kind of fault on a seeded random schedule. Combinations that make no sense are skipped with the
reason (fencing needs a backend with tokens; nolock has no lock nodes; clock faults cannot reach
etcd or ZooKeeper). The cells of one backend share one cluster, healed between runs
(--fresh-clusters to start one per run). Then it plays the scripted scenarios a random schedule
hits only by luck (--scenarios), each against the verdict its file expects.

Writes results/compare/<timestamp>/matrix.md (a table a person reads, linking to every run),
matrix.html and matrix.json, plus every run's own results directory.

With --expect FILE, every cell is compared with an expected verdict; the command exits 1 when a
cell or a scenario differs, which is how a nightly job asserts that nothing regressed. Exit 0
otherwise, 130 when interrupted (Ctrl-C: the cells that finished are written, the one cut short
is left out as not run), 255 on error.`,
		Example: `  # a first look at every backend: no faults and client pauses, unfenced and fenced, K1-W and R1
  locktest compare --quick --expect expected.yaml

  # the default matrix (every fault), checked against the shipped expectations
  locktest compare --expect expected.yaml

  # two backends under client pauses, three runs per cell, no scenarios
  locktest compare --backends redis-single,etcd --fencing none,reads-writes --faults none,pause-client --runs 3 --scenarios ""`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if quick {
				applyQuick(cmd)
			}
			plan, err := parseMatrix(backends, fencings, faults)
			if err != nil {
				return usageError{err}
			}
			var shard compare.Shard
			if shardFlag != "" {
				if shard, err = compare.ParseShard(shardFlag); err != nil {
					return usageError{fmt.Errorf("--shard: %w", err)}
				}
				if p.Seed == 0 {
					// Each shard would draw its own seed, and the shards could not be merged.
					return usageError{errors.New("--shard needs --seed: every shard of a comparison must run the same plan")}
				}
			}
			expect, err := loadExpect(expectFile)
			if err != nil {
				return err
			}
			if p.Seed == 0 {
				p.Seed = time.Now().UnixNano() % 1_000_000
			}
			p.Backend = config.MatrixDefault().Backend // for validation only: each cell sets its own
			if err := p.Validate(); err != nil {
				return usageError{err}
			}
			started := time.Now()
			view := termview.New(cmd.ErrOrStderr(), p.TimeLimit)
			defer view.Close()
			out := view
			p.Out = nil // cell runs are summarized below, not narrated
			p.Log = newLogger(out, verbose)
			p.Version = version
			spec := compare.Spec{
				Plan: plan, Base: p, Runs: runs, Scenarios: splitList(scenarioList), Expect: expect,
				ReuseClusters: !fresh, ResultsDir: p.ResultsDir, JUnit: junit, Started: started, Shard: shard,
			}
			part, _ := spec.Part() // what this shard (or the whole comparison) runs
			estimate := compare.Estimate(part, runs, p.TimeLimit)
			// Runs finished, and when the last one did; the callbacks run on compare.RunMatrix's goroutine.
			done, doneAt := 0, started
			if view.Live() {
				// On a terminal, the run in progress is shown live below the finished cells; plain
				// output keeps to a line per finished run.
				p.Out = view.BuildSteps()
				p.Status = func(pr harness.Progress) {
					view.SetHeader(matrixHeader(part, runs, done, started, doneAt, estimate))
					view.Update(snapshot(pr))
				}
			}
			spec.Base = p // again, with the live view's hooks
			spec.Begin = func() {
				what := ""
				if !shard.Whole() {
					what = fmt.Sprintf(" (shard %s of %d)", shard, len(plan.Cells))
				}
				fmt.Fprintf(out, "compare: %d cell(s)%s × %d run(s), %d skipped; about %v\n",
					len(part.Cells), what, runs, len(plan.Skipped), estimate.Round(time.Minute))
			}
			spec.Progress = func(n, total int, c compare.Cell, r compare.RunSummary) {
				done, doneAt = n, time.Now()
				detail := r.Verdict
				if r.Error != "" {
					detail += ": " + r.Error
				}
				fmt.Fprintf(out, "  [%d/%d %s] %-40s %s\n", n, total, compare.Since(started), c.String(), strings.ToUpper(detail))
				view.SetHeader(matrixHeader(part, runs, done, started, doneAt, estimate))
			}
			spec.ScenarioProgress = func(r compare.ScenarioResult) {
				met := "as expected"
				if !r.Met {
					met = "NOT as expected (" + r.Expect + ")"
					if r.Error != "" {
						met += ": " + r.Error
					}
				}
				fmt.Fprintf(out, "  [scenario %s] %-36s %s %s\n", compare.Since(started), r.Name+" ("+r.Backend+")", strings.ToUpper(r.Verdict), met)
			}
			spec.End = view.Close
			m, o, err := compare.RunMatrix(cmd.Context(), spec)
			if err != nil {
				return err
			}
			return printMatrix(cmd.OutOrStdout(), m, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&backends, "backends", strings.Join(backend.Names(), ","), "backends to compare")
	f.StringVar(&fencings, "fencing", "none,reads-writes", "fencing modes (rows): none, reads-writes, writes-only, check-and-set")
	f.StringVar(&faults, "faults", "none,"+names(nemesis.Kinds, ",")+",kleppmann", "columns: fault kinds (one random fault at a time), exploration profiles (kleppmann: composed, holder-aware rounds), none for no fault")
	f.IntVar(&runs, "runs", 1, "runs per cell, with different seeds")
	f.StringVar(&scenarioList, "scenarios", "K1-W,K3,K4,R1", "scenarios to play after the matrix (shipped names like K1 or R1, or files): the stories a random schedule hits only by luck; empty for none")
	f.BoolVar(&fresh, "fresh-clusters", false, "start a fresh cluster for every run instead of one per backend")
	f.BoolVar(&quick, "quick", false, compare.Quick.String()+" (flags given explicitly win)")
	f.StringVar(&expectFile, "expect", "", "expected verdicts (expected.yaml); exit 1 when a cell differs")
	d := config.MatrixDefault() // the one place for defaults
	f.IntVar(&p.Nodes, "nodes", d.Nodes, "lock nodes per cell; 0 is each backend's usual size")
	f.IntVar(&p.Clients, "clients", d.Clients, "client processes per run")
	f.DurationVar(&p.TTL, "ttl", d.TTL, "lock lease time")
	f.DurationVar(&p.TimeLimit, "time-limit", d.TimeLimit, "length of each run")
	f.DurationVar(&p.FaultInterval, "nemesis-interval", d.FaultInterval, "how long each fault lasts, and the quiet time between two")
	f.Int64Var(&p.Seed, "seed", d.Seed, "base seed (0 picks one; cell i run r uses seed+1000i+r)")
	f.DurationVar(&p.AcquireTimeout, "acquire-timeout", d.AcquireTimeout, "how long one acquisition may keep retrying")
	f.DurationVar(&p.StorageTimeout, "storage-timeout", d.StorageTimeout, "timeout of one storage read or write")
	p.Fencing, p.Persistence, p.Cluster = d.Fencing, d.Persistence, d.Cluster
	f.StringVar(&p.ResultsDir, "results-dir", "results", "base directory; the matrix goes to <dir>/compare/<timestamp>")
	f.StringVar(&junit, "junit", "", "also write one JUnit test case per cell (fails when the cell differs from --expect, or without it when invalid)")
	f.StringVar(&shardFlag, "shard", "", "run only part K of N of the comparison (K/N, e.g. 2/3), for CI jobs that share it; `locktest compare merge` joins the parts")
	f.BoolVarP(&verbose, "verbose", "v", false, "debug logs")
	cmd.AddCommand(newMergeCmd())
	return cmd
}

// loadExpect reads --expect's file, if given.
func loadExpect(path string) (compare.Expectations, error) {
	if path == "" {
		return nil, nil
	}
	e, err := compare.LoadExpectations(path)
	if err != nil {
		return nil, usageError{err}
	}
	return e, nil
}

func newMergeCmd() *cobra.Command {
	var expectFile, junit, resultsDir string
	cmd := &cobra.Command{
		Use:   "merge DIR...",
		Short: "Join the results of a comparison's shards into one matrix",
		Long: `Joins the matrix directories written by 'locktest compare --shard K/N', one per K, into the
matrix the whole comparison would have written: every cell of the plan once, in its order, and the
scenarios. It checks that the directories are the N shards of one plan (same flags, seed and
locktest version), each given once, and says which shard is missing, given twice or different.
The merged matrix (matrix.md, matrix.html, matrix.json, a copy of every run it links to) goes to
<results-dir>/compare/<timestamp>.

Exit 0 when every cell and scenario is as expected (--expect), 1 when one differs, 254 when the
directories do not make one comparison, 255 when cells are missing (a shard was cut short) or the
results cannot be written.`,
		Example: `  # three CI jobs ran 'locktest compare --shard K/3 --seed 5 --expect expected.yaml'; then:
  locktest compare merge --expect expected.yaml shard1/compare/latest shard2/compare/latest shard3/compare/latest`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("%s takes the shards' matrix directories, e.g. shard1/compare/latest", cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, dirs []string) error {
			expect, err := loadExpect(expectFile)
			if err != nil {
				return err
			}
			m, o, err := compare.Merge(compare.MergeSpec{Dirs: dirs, Expect: expect, ResultsDir: resultsDir, JUnit: junit})
			var me *compare.MergeError
			if errors.As(err, &me) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if o.Status == compare.StatusInterrupted {
				// The merge itself ran to its end; a shard was cut short, so cells are missing.
				o.Status = compare.StatusIncomplete
			}
			return printMatrix(cmd.OutOrStdout(), m, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&expectFile, "expect", "", "expected verdicts (expected.yaml); exit 1 when a cell differs")
	f.StringVar(&junit, "junit", "", "also write one JUnit test case per cell and scenario of the merged matrix")
	f.StringVar(&resultsDir, "results-dir", "results", "base directory; the merged matrix goes to <dir>/compare/<timestamp>")
	return cmd
}

// matrixHeader says which cell runs now (compare.Run goes through the cells in order, runs times
// each), how many runs are done, and about how long the rest takes: at the pace of the runs done
// (the last finished at doneAt), or as estimated before the first.
func matrixHeader(plan compare.Plan, runs, done int, started, doneAt time.Time, estimate time.Duration) string {
	runs = max(runs, 1)
	total := len(plan.Cells) * runs
	if done >= total {
		return fmt.Sprintf("  %d/%d runs done", done, total)
	}
	c := plan.Cells[done/runs]
	if done > 0 {
		estimate = doneAt.Sub(started) / time.Duration(done) * time.Duration(total)
	}
	left := max(estimate-time.Since(started), 0)
	return fmt.Sprintf("  cell %d/%d: %s, run %d/%d   %d/%d runs done, about %v left",
		done/runs+1, len(plan.Cells), c.String(), done%runs+1, runs, done, total, left.Round(time.Second))
}

// printMatrix prints the matrix and where it is on w, and returns the comparison's exit.
func printMatrix(w io.Writer, m *compare.Matrix, o compare.Outcome) error {
	m.Markdown(w)
	fmt.Fprintf(w, "\nmatrix: %s\n", filepath.Join(o.Dir, "matrix.md"))
	return outcomeExit(os.Stderr, o)
}

// applyQuick sets the flags --quick sets (compare.Quick) that were not given explicitly.
func applyQuick(cmd *cobra.Command) {
	f := cmd.Flags()
	for flag, v := range map[string][]string{"faults": compare.Quick.Faults, "scenarios": compare.Quick.Scenarios} {
		if !f.Changed(flag) {
			_ = f.Set(flag, strings.Join(v, ","))
		}
	}
}

// outcomeExit says on w why a comparison fell short and returns its exit: 130 interrupted, 255
// (an error) when cells did not run, 1 when a cell or scenario differs from what is expected.
func outcomeExit(w io.Writer, o compare.Outcome) error {
	switch o.Status {
	case compare.StatusInterrupted:
		// Cells cut short are not run (compare.Run): no partial verdict is reported.
		fmt.Fprintf(w, "compare: interrupted: the matrix is incomplete (%d of %d cells ran)\n", o.Ran, o.Planned)
		return exitCode(exitInterrupted)
	case compare.StatusIncomplete:
		return fmt.Errorf("only %d of %d cells ran", o.Ran, o.Planned)
	case compare.StatusMismatched:
		fmt.Fprintf(w, "compare: %d cell(s) or scenario(s) differ from what is expected:\n- %s\n", len(o.Mismatches), strings.Join(o.Mismatches, "\n- "))
		return exitCode(exitInvalid)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func parseMatrix(backends, fencings, faults string) (compare.Plan, error) {
	var bs []*backend.Backend
	for _, s := range splitList(backends) {
		b, err := backend.Get(lock.Backend(s))
		if err != nil {
			return compare.Plan{}, err
		}
		bs = append(bs, b)
	}
	var fs []workload.Fencing
	for _, s := range splitList(fencings) {
		f, err := workload.ParseFencing(s)
		if err != nil {
			return compare.Plan{}, err
		}
		fs = append(fs, f)
	}
	fl := splitList(faults)
	for _, s := range fl {
		if _, err := explore.Of(s); s == compare.NoFault || err == nil {
			continue // no fault, or an exploration profile
		}
		if _, err := nemesis.ParseKinds(s); err != nil {
			return compare.Plan{}, err
		}
	}
	if len(bs) == 0 || len(fs) == 0 || len(fl) == 0 {
		return compare.Plan{}, errors.New("--backends, --fencing and --faults must each name at least one")
	}
	return compare.NewPlan(bs, fs, fl), nil
}
