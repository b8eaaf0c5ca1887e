package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/backend"
	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/explore"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/scenario"
	"github.com/locktest/locktest/workload"
)

func newTestCmd() *cobra.Command {
	var (
		backendName string
		faults      string
		scenFile    string
		persist     string
		fencing     string
		guard       string
		work        string
		junit       string
		p           = harness.Params{}
		verbose     bool
	)
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run one test against a fresh cluster and check the history",
		Long: `Starts the lock nodes and a storage node in containers (building the image first if needed),
runs --clients worker processes that loop acquire -> read counter -> write counter+1 -> release for
--time-limit, then checks the history and writes results/<backend>/<timestamp>/ (history.lkh,
results.json, linearizability.html) and the results/latest link.

Exit status: 0 valid, 1 invalid (an anomaly was found), 2 unknown, 130 interrupted (Ctrl-C or
SIGTERM: the partial verdict is written, never counted as a pass), 254 bad usage, 255 error.`,
		Example: `  # the negative control: must be INVALID (exit 1) within seconds
  locktest test --backend nolock --time-limit 20s

  # Redlock over 5 Redis masters without faults: must be VALID (exit 0)
  locktest test --backend redlock --time-limit 20s --clients 5

  # Kleppmann's paused client against Redlock: exits 0 when the run is INVALID, as the file expects
  locktest test --scenario scenarios/k1-pause-holder.yaml

  # a random fault schedule drawn from the seed (same seed, same schedule)
  locktest test --backend redlock --nemesis pause-client,clock --nemesis-interval 5s --time-limit 60s --seed 7`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := backend.Get(lock.Backend(backendName))
			if err != nil {
				return usageError{err}
			}
			p.Backend = b.Name
			if scenFile != "" {
				if faults != "none" {
					return usageError{fmt.Errorf("--scenario and --nemesis exclude each other: the scenario scripts the faults")}
				}
				sc, err := scenario.Load(scenFile)
				if err != nil {
					return usageError{err}
				}
				p.UseScenario(sc, cmd.Flags().Changed)
				p.ScenarioFile = scenFile
			}
			if p.Faults, err = nemesis.ParseKinds(faults); err != nil {
				return usageError{err}
			}
			if cmd.Flags().Changed("fencing") || p.Fencing == "" {
				if p.Fencing, err = workload.ParseFencing(fencing); err != nil {
					return usageError{err}
				}
			}
			if cmd.Flags().Changed("guard") {
				if p.Client.Guard, err = workload.ParseGuard(guard); err != nil {
					return usageError{err}
				}
			}
			if cmd.Flags().Changed("work") {
				if p.Client.Work, err = workload.ParseWork(work); err != nil {
					return usageError{err}
				}
			}
			if cmd.Flags().Changed("persistence") || p.Persistence == "" {
				if p.Persistence, err = cluster.ParsePersistence(persist); err != nil {
					return usageError{err}
				}
			}
			if p.Seed == 0 {
				p.Seed = time.Now().UnixNano()
			}
			if err := p.Validate(); err != nil {
				return usageError{err}
			}
			p.Version = version
			view := progressView(cmd.ErrOrStderr(), &p, verbose)
			defer view.Close()
			out, err := harness.Test(cmd.Context(), p)
			view.Close()
			if err != nil {
				return err
			}
			report.PrintSummary(cmd.OutOrStdout(), out.Results, out.Dir)
			if junit != "" {
				name := string(p.Backend)
				if p.Scenario != nil {
					name = "scenario " + p.Scenario.Name
				}
				c := report.JUnitFromResults(out.Results, "locktest."+string(p.Backend), name)
				if err := report.WriteJUnit(junit, "locktest test", []report.JUnitCase{c}); err != nil {
					return err
				}
			}
			return resultExit(out.Results)
		},
	}
	f := cmd.Flags()
	d := config.Default() // the one place for defaults
	f.StringVar(&backendName, "backend", string(d.Backend), "lock backend: "+strings.Join(backend.Names(), ", "))
	f.IntVar(&p.Nodes, "nodes", d.Nodes, "lock nodes to start; 0 is the backend's usual size (Redlock 5, etcd and ZooKeeper 3, Sentinel a primary and a replica; redis-single and postgres always 1)")
	f.IntVar(&p.Clients, "clients", d.Clients, "concurrent client processes")
	f.DurationVar(&p.TTL, "ttl", d.TTL, "lock lease time")
	f.DurationVar(&p.TimeLimit, "time-limit", d.TimeLimit, "how long the clients run")
	f.Int64Var(&p.Seed, "seed", 0, "random seed (0 picks one; it is printed and recorded)")
	f.DurationVar(&p.AcquireTimeout, "acquire-timeout", d.AcquireTimeout, "how long one acquisition may keep retrying")
	f.DurationVar(&p.StorageTimeout, "storage-timeout", d.StorageTimeout, "timeout of one storage read or write")
	f.DurationVar(&p.Think, "think", d.Think, "how long each client rests after a release before it acquires again")
	f.StringVar(&scenFile, "scenario", "", "scenario file (scenarios/*.yaml): scripted faults and the verdict they must produce")
	f.StringVar(&fencing, "fencing", string(d.Fencing), "how the storage checks the lease: none; reads-writes or writes-only (its fencing token: every backend but Redlock, redis-py and nolock); check-and-set (its random value, as antirez proposes: any backend)")
	f.StringVar(&guard, "guard", d.Client.Guard.String(), "the check each client makes just before it writes: none, or validity (skip the write when the lease has no more than --guard-margin of validity left)")
	f.DurationVar(&p.Client.GuardMargin, "guard-margin", d.Client.GuardMargin, "with --guard validity, the least validity the lease must have left for the client to write")
	f.StringVar(&work, "work", d.Client.Work.String(), "how long each client works inside the critical section, between its read and its write: a duration (50ms) or a range (20ms-200ms)")
	f.BoolVar(&p.Client.Extend, "extend", d.Client.Extend, "each client extends its lease while it works, whenever less than half a TTL is left (redis-single, redis-sentinel, redlock)")
	f.StringVar(&p.ClientCmd, "client-cmd", d.ClientCmd, "run this program as each client process instead of the built-in client (arguments split at spaces): any language, speaking the worker protocol of docs/client-protocol.md")
	f.StringVar(&persist, "persistence", string(d.Persistence), "lock nodes' durability across a kill: none, everysec or always for Redis (default none); nofsync or always for etcd and ZooKeeper (default nofsync); always for PostgreSQL")
	f.StringVar(&faults, "nemesis", "none", "faults of the random schedule: none, all, or a list of "+names(nemesis.Kinds, ","))
	f.StringVar(&p.Profile, "nemesis-profile", d.Profile, "instead of --nemesis, draw rounds of composed, holder-aware faults from a profile: "+profileNames())
	f.DurationVar(&p.FaultInterval, "nemesis-interval", d.FaultInterval, "how long each fault lasts, and the quiet time between two")
	f.StringVar(&p.Cluster, "cluster", d.Cluster, "containers (started for the run) or compose (the standing docker-compose.yml cluster; used, healed, never removed)")
	f.StringVar(&p.ResultsDir, "results-dir", "results", "where run directories are written")
	f.StringVar(&junit, "junit", "", "also write the outcome as a JUnit XML file (for CI)")
	f.BoolVarP(&verbose, "verbose", "v", false, "debug logs (container lifecycle, worker events)")
	return cmd
}

// names joins the names of a list of string-typed values for help texts.
func names[T ~string](xs []T, sep string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return strings.Join(out, sep)
}

// resultExit is the exit status of a run's results: exitInterrupted when the run was cut short,
// whatever its partial verdict; else the scenario's expectation when it has one; else the verdict.
func resultExit(r *report.Results) error {
	if r.Interrupted {
		return exitCode(exitInterrupted)
	}
	if sc := r.Scenario; sc != nil && (sc.Expect != "" || len(sc.Require) > 0) {
		return expectationExit(sc, r.Valid)
	}
	return verdictExit(r.Valid)
}

// expectationExit: 0 when the scenario reached its expected verdict, 2 when the verdict is
// unknown or the steps did not play out, 1 when the verdict is the other one.
func expectationExit(sc *report.ScenarioOutcome, v checker.Validity) error {
	switch {
	case sc.Met:
		return nil
	case sc.Error != "" || v == checker.Unknown:
		return exitCode(exitUnknown)
	default:
		return exitCode(exitInvalid)
	}
}

func verdictExit(v checker.Validity) error {
	switch v {
	case checker.Valid:
		return nil
	case checker.Invalid:
		return exitCode(exitInvalid)
	default:
		return exitCode(exitUnknown)
	}
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// profileNames lists the exploration profiles with what each draws from.
func profileNames() string {
	var out []string
	for _, p := range explore.Profiles {
		out = append(out, p.Name+" ("+p.Doc+")")
	}
	return strings.Join(out, "; ")
}
