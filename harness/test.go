// Package harness runs one test end to end: image, cluster, workload, check, results. The CLI is a
// thin layer over it, and the integration tests call it directly.
package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/locktest/locktest/backend"
	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/explore"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/internal/procmem"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/scenario"
	"github.com/locktest/locktest/workload"
)

// Params configures a test run: what the run is (config.Run, recorded with it) and how it is
// shown and kept.
type Params struct {
	config.Run
	// ResultsDir is the base directory of results (results/<backend>/<timestamp>/ is made in it).
	ResultsDir string
	// Out receives progress and the summary for people; Log structured logs.
	Out io.Writer
	Log *slog.Logger
	// Status, if set, is called when the run enters a phase and about once a second while the
	// workload runs.
	Status func(Progress)
	// Version is recorded in the history's metadata.
	Version string
	// Scenario, if set, is played instead of a random schedule (Run.ScenarioFile is its file).
	Scenario *scenario.Scenario
	// Reuse, if set, is a cluster of this backend's kind that an earlier run left healed (see
	// StartCluster): the run uses it and leaves it running. compare reuses one per backend.
	Reuse cluster.Cluster
	_     struct{}
}

// Validate checks the parameters a user can get wrong, with messages that say what to do.
func (p Params) Validate() error {
	switch {
	case p.Clients < 1:
		return fmt.Errorf("--clients must be at least 1, got %d", p.Clients)
	case p.Nodes < 0:
		return fmt.Errorf("--nodes must be 0 (the backend's usual size) or more, got %d", p.Nodes)
	case p.TTL < 10*time.Millisecond:
		return fmt.Errorf("--ttl must be at least 10ms, got %v", p.TTL)
	case p.TimeLimit <= 0:
		return fmt.Errorf("--time-limit must be positive, got %v", p.TimeLimit)
	case p.AcquireTimeout <= 0 || p.StorageTimeout <= 0:
		return errors.New("--acquire-timeout and --storage-timeout must be positive")
	case p.Think < 0:
		return fmt.Errorf("--think must not be negative, got %v", p.Think)
	case p.Profile != "" && (len(p.Faults) > 0 || p.ScenarioFile != "" || p.Scenario != nil):
		return errors.New("--nemesis-profile draws its own faults: leave out --nemesis and --scenario")
	case len(p.Faults) > 0 && p.FaultInterval <= 0:
		return fmt.Errorf("--nemesis-interval must be positive, got %v", p.FaultInterval)
	}
	if _, err := cluster.ParsePersistence(string(p.Persistence)); err != nil {
		return err
	}
	if p.Cluster != "" && p.Cluster != config.Containers && p.Cluster != config.Compose {
		return fmt.Errorf("unknown --cluster %q (choose containers or compose)", p.Cluster)
	}
	b, err := backend.Get(p.Backend)
	if err != nil {
		return err
	}
	if p.Profile != "" {
		if _, err := explore.Of(p.Profile); err != nil {
			return err
		}
	}
	f, err := workload.ParseFencing(string(p.Fencing))
	if err != nil {
		return err
	}
	if _, err := b.NodeCount(p.Nodes); err != nil {
		return err
	}
	if err := b.CheckTTL(p.TTL); err != nil {
		return fmt.Errorf("--ttl: %w", err)
	}
	if err := b.Kind().CheckPersistence(p.Persistence); err != nil {
		return fmt.Errorf("--persistence: %w", err)
	}
	if p.Cluster == config.Compose && !b.OnStanding() {
		return fmt.Errorf("the standing docker-compose cluster runs Redis only; run %s with --cluster containers", p.Backend)
	}
	if err := p.Client.Check(p.TTL, b.Driver); err != nil {
		return err
	}
	if b.Client != nil && p.ClientCmd == "" {
		if err := b.Client.Check(); err != nil {
			return err
		}
	}
	if args := strings.Fields(p.ClientCmd); len(args) > 0 {
		if _, err := exec.LookPath(args[0]); err != nil {
			return fmt.Errorf("--client-cmd: %w", err)
		}
	} else if p.ClientCmd != "" {
		return errors.New("--client-cmd names no program")
	}
	if f.NeedsTokens() && !b.Tokens {
		return fmt.Errorf("backend %s hands out no monotonic fencing tokens, so it cannot run with --fencing %s "+
			"(for Redlock that is Kleppmann's point: its independent nodes have no counter to draw tokens from)", p.Backend, f)
	}
	return nil
}

// UseScenario makes sc drive the run and takes its run parameters (backend, clients, nodes, ttl,
// time limit) for every one that set (given the flag's name) says the user did not set.
func (p *Params) UseScenario(sc *scenario.Scenario, set func(flag string) bool) {
	p.Scenario = sc
	if sc.Backend != "" && !set("backend") {
		p.Backend = lock.Backend(sc.Backend)
	}
	if sc.Clients > 0 && !set("clients") {
		p.Clients = sc.Clients
	}
	if sc.Nodes > 0 && !set("nodes") {
		p.Nodes = sc.Nodes
	}
	if sc.TTL > 0 && !set("ttl") {
		p.TTL = sc.TTL.D()
	}
	if sc.TimeLimit > 0 && !set("time-limit") {
		p.TimeLimit = sc.TimeLimit.D()
	}
	if sc.Persistence != "" && !set("persistence") {
		p.Persistence = cluster.Persistence(sc.Persistence)
	}
	if sc.Fencing != "" && !set("fencing") {
		p.Fencing = workload.Fencing(sc.Fencing)
	}
	if sc.Guard != "" && !set("guard") {
		p.Client.Guard = workload.Guard(sc.Guard)
	}
	if sc.GuardMargin > 0 && !set("guard-margin") {
		p.Client.GuardMargin = sc.GuardMargin.D()
	}
	if sc.Work != "" && !set("work") {
		// Load checked it.
		p.Client.Work, _ = workload.ParseWork(sc.Work)
	}
	if sc.Extend && !set("extend") {
		p.Client.Extend = true
	}
	if sc.ClientCmd != "" && !set("client-cmd") {
		p.ClientCmd = sc.ClientCmd
	}
}

// Outcome is what a run produced.
type Outcome struct {
	Dir     string
	Results *report.Results
}

// Test runs one test, in four phases: setup (cluster, run directory, history, proxies, workers),
// run (the fault schedule or scenario beside the workload, then everything healed and stopped),
// check, and persist (results.json, the run page, the latest link). What setup builds is undone
// by one cleanup stack, in reverse order, on every path out: errors, panics and cancellation of
// ctx (which ends the workload early; the partial history is still checked).
func Test(ctx context.Context, p Params) (*Outcome, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Out == nil {
		p.Out = io.Discard
	}
	t := &testRun{p: p, start: time.Now()}
	t.runID = newRunID(t.start)
	defer t.cleanup.run()
	if err := t.setup(ctx); err != nil {
		return nil, err
	}
	if err := t.run(ctx); err != nil {
		return nil, err
	}
	hf, res, err := t.check()
	if err != nil {
		return nil, err
	}
	return t.persist(hf, res)
}

// testRun is one run of Test: what its phases build and hand on to each other.
type testRun struct {
	p         Params
	b         *backend.Backend
	start     time.Time
	runID     string
	lockNodes int
	tm        report.Timings
	// workloadRSS is the coordinator's peak RSS when the workload ended, 0 where unknown.
	workloadRSS int64
	cleanup     cleanupStack

	engine *cluster.Engine
	cl     cluster.Cluster
	dir    string
	hw     *history.Writer
	links  *proxyLinks
	w      *workload.Workload
	nem    *nemesis.Nemesis
	wstart time.Time

	// explored is the schedule the exploration profile drew (nil without a profile).
	explored *scenario.Scenario

	sum         workload.Summary
	scenarioErr error
	// stopped says the run stopped the workers itself (the cleanup then need not).
	stopped bool
}

// cleanupStack is what a run must undo, in the reverse of the order it was set up. Steps a phase
// also takes early (closing the cluster to time its teardown, healing, stopping the workers) are
// idempotent, so running the stack after them is harmless.
type cleanupStack struct{ steps []func() }

func (s *cleanupStack) push(f func()) { s.steps = append(s.steps, f) }

func (s *cleanupStack) run() {
	for len(s.steps) > 0 {
		f := s.steps[len(s.steps)-1]
		s.steps = s.steps[:len(s.steps)-1]
		f()
	}
}

// setup starts the cluster and the workers and opens the run's files.
func (t *testRun) setup(ctx context.Context) error {
	p := &t.p
	t.b, _ = backend.Get(p.Backend) // checked by Validate
	t.lockNodes, _ = t.b.NodeCount(p.Nodes)
	// Recorded as the setting used, so a stored run says it even after a default changes.
	p.Persistence = t.b.Kind().Persistence(p.Persistence)
	// Said, not faked: a schedule of faults that cannot land would pass for resilience.
	p.Faults = slices.DeleteFunc(slices.Clone(p.Faults), func(k nemesis.Kind) bool {
		fk, err := nemesis.Of(k)
		if err != nil {
			return true // refused by the CLI already
		}
		ok, why := fk.AppliesTo(t.b.Nodes)
		if !ok {
			fmt.Fprintf(p.Out, "nemesis: %s faults cannot act on %s and are left out: %s\n", k, p.Backend, why)
		}
		return !ok
	})
	// The configuration as it runs, recorded in the history and in results.json.
	recorded, err := json.Marshal(p.Run)
	if err != nil {
		return err
	}
	if t.engine, err = cluster.Connect(ctx); err != nil {
		return err
	}
	t.cleanup.push(func() { t.engine.Close() })
	p.status(Progress{Phase: PhaseStarting})
	if t.cl, err = openCluster(ctx, t.engine, *p, t.runID, t.lockNodes, &t.tm); err != nil {
		return err
	}
	// Close is idempotent: the run closes the cluster itself to time the teardown.
	t.cleanup.push(func() { t.cl.Close(context.WithoutCancel(ctx)) })
	if t.dir, err = report.NewRunDir(p.ResultsDir, string(p.Backend), t.start); err != nil {
		return err
	}
	if t.hw, err = history.Create(filepath.Join(t.dir, report.HistoryFile)); err != nil {
		return err
	}
	t.cleanup.push(func() { t.hw.Close() })
	wlog, err := os.Create(filepath.Join(t.dir, report.WorkerLogFile))
	if err != nil {
		return err
	}
	t.cleanup.push(func() { wlog.Close() })

	if p.Profile != "" {
		if err := t.drawExplored(); err != nil {
			return err
		}
	}
	clientCmd := strings.Fields(p.ClientCmd)
	if len(clientCmd) == 0 && t.b.Client != nil {
		if clientCmd, err = t.b.Client.Command(t.dir); err != nil {
			return err
		}
	}
	addrs, dial := t.b.Kind().ClientAddrs(t.cl)
	// Delay is injected by proxies between clients and nodes; only runs that may delay use them.
	var route func(int, string) string
	if needsLinks(p.Faults, t.played()) {
		if t.links, err = startLinks(p.Clients, append(t.cl.LockNodes(), t.cl.Storage())); err != nil {
			return err
		}
		t.cleanup.push(func() { t.links.Close() }) // pushed before the workers' stop: runs after it
		route = t.links.route
	}
	fmt.Fprintf(p.Out, "running %s with %d clients for %v (ttl %v)\n", p.Backend, p.Clients, p.TimeLimit, p.TTL)
	t.wstart = time.Now()
	t.nem = nemesis.New(t.hw, p.Log)
	onStatus := func(s workload.Status) {
		p.status(Progress{Status: s, Phase: PhaseRunning, Faults: t.nem.ActiveFaults()})
	}
	t.w, err = workload.Start(ctx, workload.Params{
		Clients:   p.Clients,
		TimeLimit: p.TimeLimit,
		Worker: workload.WorkerConfig{
			Backend:        p.Backend,
			LockAddrs:      addrs,
			Dial:           dial,
			TTL:            p.TTL,
			StorageAddr:    t.cl.Storage().Addr,
			StorageTimeout: p.StorageTimeout,
			AcquireTimeout: p.AcquireTimeout,
			Fencing:        p.Fencing,
			Think:          p.Think,
			Client:         p.Client,
			Seed:           p.Seed,
		},
		Meta: history.Meta{Config: recorded, Backend: string(p.Backend), Clients: p.Clients, Nodes: t.lockNodes, TTLMs: p.TTL.Milliseconds(),
			Seed: p.Seed, RunID: t.runID, Started: t.start.UTC().Format(time.RFC3339), Version: p.Version, ThinkMs: p.Think.Milliseconds()},
		History:   t.hw,
		WorkerLog: wlog,
		Log:       p.Log,
		OnStatus:  onStatus,
		Route:     route,
		ClientCmd: clientCmd,
	})
	if err != nil {
		return fmt.Errorf("workload: %w", err)
	}
	t.cleanup.push(func() {
		if !t.stopped { // an error or a panic: workers must not outlive the run
			t.w.Stop(ctx)
		}
	})
	// Pushed after the workers' stop, so it runs first: paused clients resume and can stop in
	// order, and nothing stays broken whatever happens.
	t.cleanup.push(func() { t.nem.HealAll(context.WithoutCancel(ctx)) })
	return nil
}

// run drives the fault schedule or the scenario beside the workload until the time limit (or
// ctx ends), then heals every fault, stops the workers and removes the cluster.
func (t *testRun) run(ctx context.Context) error {
	p := &t.p
	var steps []nemesis.Step
	if p.Scenario == nil {
		steps = nemesis.RandomSchedule(nemesis.RandomParams{
			Seed: p.Seed, Kinds: p.Faults, Interval: p.FaultInterval, TTL: p.TTL,
			Until: p.TimeLimit - recovery(p.TTL), Nodes: nodeNames(t.cl.LockNodes()), Clients: p.Clients,
		})
	}
	if len(p.Faults) > 0 {
		if err := report.WriteJSON(filepath.Join(t.dir, report.ScheduleFile), steps); err != nil {
			return err
		}
		fmt.Fprintf(p.Out, "nemesis: %d fault(s) scheduled (%s), the last %v fault-free\n", len(steps), kindsList(p.Faults), recovery(p.TTL))
	}
	nctx, ncancel := context.WithCancel(ctx)
	// On a panic below, the schedule stops before the cleanup's heals run.
	t.cleanup.push(ncancel)
	nemDone := make(chan struct{})
	env := nemesis.Env{Control: t.engine, Nodes: slices.Concat(t.cl.LockNodes(), t.cl.Sentinels(), []cluster.Node{t.cl.Storage()}), Clients: t.w}
	if t.links != nil {
		env.Links = t.links
	}
	if sc := t.played(); sc != nil {
		pl := scenario.NewPlayer(sc, t.nem, env, t.w, p.Log)
		if sc == p.Scenario {
			fmt.Fprintf(p.Out, "scenario %s: %d step(s), expecting %s\n", sc.Name, len(sc.Steps), sc.Expect)
		}
		go func() {
			defer close(nemDone)
			t.scenarioErr = pl.Play(nctx, t.wstart)
			if n := pl.Skipped(); n > 0 {
				fmt.Fprintf(p.Out, "nemesis: %d step(s) could not play (nobody to catch in time) and were skipped\n", n)
			}
		}()
	} else {
		go func() {
			defer close(nemDone)
			t.nem.Run(nctx, env, t.wstart, steps)
		}()
	}

	interrupted, runErr := t.w.Wait(ctx, p.TimeLimit)
	p.status(Progress{Status: t.w.Status(), Phase: PhaseStopping, Faults: t.nem.ActiveFaults()})
	ncancel()
	<-nemDone
	if t.scenarioErr != nil {
		fmt.Fprintf(p.Out, "scenario did not play out: %v\n", t.scenarioErr)
	}
	if err := t.nem.HealAll(context.WithoutCancel(ctx)); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("heal: %w", err))
	}
	sum, err := t.w.Stop(ctx)
	t.stopped = true
	sum.Interrupted = interrupted
	t.sum = sum
	runErr = errors.Join(runErr, err)
	t.tm.WorkloadSeconds = report.Secs(time.Since(t.wstart))
	t.workloadRSS, _ = procmem.PeakRSS()
	var broken *workload.ProtocolError
	if runErr != nil && (sum.Status.Events == 0 || errors.As(runErr, &broken)) {
		// A client that broke the protocol left a history with records missing or refused: no
		// verdict can be drawn from it.
		return fmt.Errorf("workload: %w", runErr)
	}
	if runErr != nil {
		// Keep going: what was recorded is still evidence, and the checker says what it can.
		fmt.Fprintf(p.Out, "workload error: %v (checking what was recorded)\n", runErr)
	}
	t0 := time.Now()
	if err := t.cl.Close(ctx); err != nil {
		p.Log.Warn("cluster teardown", "err", err)
	}
	t.tm.ClusterStopSeconds = report.Secs(time.Since(t0))
	return t.hw.Close()
}

// drawExplored draws the run's schedule from its exploration profile and writes it beside the
// run as a scenario file.
func (t *testRun) drawExplored() error {
	p := &t.p
	prof, _ := explore.Of(p.Profile) // checked by Validate
	e := explore.Env{Nodes: nodeNames(t.cl.LockNodes()), Kind: t.b.Kind(), SessionLease: t.b.SessionLease, TTL: p.TTL, Until: p.TimeLimit - recovery(p.TTL)}
	t.explored = prof.Draw(p.Seed, e)
	if t.explored == nil {
		_, why := prof.Applicable(e)
		fmt.Fprintf(p.Out, "nemesis: profile %s drew nothing for %s (run too short, or no move applies: %s)\n", prof.Name, p.Backend, strings.Join(why, "; "))
		return nil
	}
	text, err := yaml.Marshal(t.explored)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# Drawn by `locktest test --backend %s --nemesis-profile %s --seed %d`; replay with --scenario.\n", p.Backend, prof.Name, p.Seed)
	if err := os.WriteFile(filepath.Join(t.dir, report.ExploredFile), append([]byte(header), text...), 0o644); err != nil {
		return err
	}
	rounds := 0
	for _, st := range t.explored.Steps {
		if st.Hold {
			rounds++
		}
	}
	fmt.Fprintf(p.Out, "nemesis: profile %s drew %d round(s), %d step(s) (%s)\n", prof.Name, rounds, len(t.explored.Steps), report.ExploredFile)
	return nil
}

// check reads the history back and checks it.
func (t *testRun) check() (*history.File, *checker.Result, error) {
	t.p.status(Progress{Status: t.sum.Status, Phase: PhaseChecking})
	t0 := time.Now()
	hf := &history.File{Path: filepath.Join(t.dir, report.HistoryFile)}
	res, err := checker.CheckSource(hf, checker.Options{})
	if err != nil {
		return nil, nil, err
	}
	t.tm.CheckSeconds = report.Secs(time.Since(t0))
	return hf, res, nil
}

// persist writes what the run found: the visualization, results.json, the run page, the latest
// link.
func (t *testRun) persist(hf *history.File, res *checker.Result) (*Outcome, error) {
	p := &t.p
	vis := ""
	if err := writeVisualization(res, filepath.Join(t.dir, report.VisualizationFile)); err != nil {
		p.Log.Warn("visualization not written", "err", err)
	} else {
		vis = report.VisualizationFile
	}
	results := &report.Results{
		Result:      res,
		Backend:     string(p.Backend),
		Seed:        p.Seed,
		RunID:       t.runID,
		Config:      p.Run,
		Nodes:       t.lockNodes,
		Interrupted: t.sum.Interrupted,
		Incomplete:  incomplete(hf.Truncated, res),
		Killed:      t.sum.Killed,
		Timings:     t.tm,
		Files:       report.Files{History: report.HistoryFile, Visualization: vis, WorkerLog: report.WorkerLogFile, Page: report.PageFile},
	}
	if p.Scenario != nil {
		results.Scenario = t.judge(res)
	}
	if t.tm.WorkloadSeconds > 0 {
		results.Throughput = float64(res.Acknowledged) / t.tm.WorkloadSeconds
	}
	if peak, ok := procmem.PeakRSS(); ok && t.workloadRSS > 0 {
		results.Coordinator = &report.CoordinatorUse{WorkloadPeakRSSMB: mb(t.workloadRSS), PeakRSSMB: mb(peak)}
	}
	if err := report.WriteJSON(filepath.Join(t.dir, report.ResultsFile), results); err != nil {
		return nil, err
	}
	if err := report.WriteRunPage(t.dir, results, hf); err != nil {
		p.Log.Warn("run page not written", "err", err)
	}
	if err := report.PointLatest(p.ResultsDir, t.dir); err != nil {
		p.Log.Warn("latest link not updated", "err", err)
	}
	return &Outcome{Dir: t.dir, Results: results}, nil
}

// judge says whether the scenario's expectation was met: the steps played out, the run was not
// interrupted, and the verdict and evidence are the expected ones.
func (t *testRun) judge(res *checker.Result) *report.ScenarioOutcome {
	sc := t.p.Scenario
	out := &report.ScenarioOutcome{Name: sc.Name, File: t.p.ScenarioFile, Expect: sc.Expect, Require: sc.Require}
	err := t.scenarioErr
	if err == nil && t.sum.Interrupted {
		err = errors.New("the run was interrupted before the scenario could be judged")
	}
	if err != nil {
		out.Error = err.Error()
	}
	met, missing := sc.Judge(res)
	out.Met, out.Missing = err == nil && met, missing
	return out
}

func writeVisualization(res *checker.Result, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.WriteVisualization(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// openCluster starts the run's containers (building the image if needed), or finds the standing
// cluster when p.Cluster is config.Compose.
func openCluster(ctx context.Context, eng *cluster.Engine, p Params, runID string, lockNodes int, tm *report.Timings) (cluster.Cluster, error) {
	if p.Cluster == config.Compose {
		if p.Persistence != "" && p.Persistence != cluster.NoPersistence {
			return nil, fmt.Errorf("--persistence applies to clusters locktest starts; a standing cluster's is set in docker-compose.yml")
		}
		st, err := cluster.FindStanding(ctx, eng)
		if err != nil {
			return nil, err
		}
		if err := st.Use(lockNodes); err != nil {
			return nil, err
		}
		fmt.Fprintf(p.Out, "using the standing cluster: %d lock node(s) and its storage node (run %s)\n", lockNodes, runID)
		return st, nil
	}
	if p.Reuse != nil {
		fmt.Fprintf(p.Out, "reusing the %s cluster of an earlier run (run %s)\n", p.Backend, runID)
		return kept{p.Reuse}, nil
	}
	cl, err := startCluster(ctx, eng, p, runID, lockNodes, tm)
	if err != nil {
		return nil, err
	}
	return cl, nil
}

// kept is a cluster the run must leave running.
type kept struct{ cluster.Cluster }

func (kept) Close(context.Context) error { return nil }

// StartCluster starts the cluster p's backend runs on (building images if needed), for runs that
// reuse it through Params.Reuse. The caller closes it.
func StartCluster(ctx context.Context, p Params) (*cluster.Containers, error) {
	if p.Out == nil {
		p.Out = io.Discard
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	eng, err := cluster.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	b, err := backend.Get(p.Backend)
	if err != nil {
		return nil, err
	}
	lockNodes, err := b.NodeCount(p.Nodes)
	if err != nil {
		return nil, err
	}
	var tm report.Timings
	return startCluster(ctx, eng, p, "shared-"+newRunID(time.Now()), lockNodes, &tm)
}

func startCluster(ctx context.Context, eng *cluster.Engine, p Params, runID string, lockNodes int, tm *report.Timings) (*cluster.Containers, error) {
	t0 := time.Now()
	b, err := backend.Get(p.Backend)
	if err != nil {
		return nil, err
	}
	kind := b.Kind()
	tag, lockTag, err := cluster.EnsureImages(ctx, eng, kind, p.Out)
	if err != nil {
		return nil, err
	}
	tm.ImageSeconds = report.Secs(time.Since(t0))
	fmt.Fprintf(p.Out, "starting %s and a storage node (run %s)\n", kind.Describe(lockNodes), runID)
	cl, err := cluster.Start(ctx, cluster.Spec{RunID: runID, Kind: kind, LockNodes: lockNodes, Image: tag, LockImage: lockTag,
		Persistence: p.Persistence, Log: p.Log})
	if err != nil {
		return nil, err
	}
	tm.ClusterStartSeconds = report.Secs(cl.Timings.Start)
	p.Log.Info("cluster up", "run", runID, "start", cl.Timings.Start)
	return cl, nil
}

// needsLinks says whether a fault the run may inject (of kinds, or in the scenario it plays)
// needs clients routed through proxies.
func needsLinks(kinds []nemesis.Kind, played *scenario.Scenario) bool {
	if played != nil {
		kinds = slices.Concat(kinds, played.Kinds())
	}
	for _, k := range kinds {
		if fk, err := nemesis.Of(k); err == nil && fk.NeedsLinks {
			return true
		}
	}
	return false
}

// played is the scenario the run plays instead of a random schedule: the one drawn from its
// exploration profile, or the scenario file it was given; nil for a random schedule.
func (t *testRun) played() *scenario.Scenario {
	if t.explored != nil {
		return t.explored
	}
	return t.p.Scenario
}

// recovery is the fault-free time at the end of a run, so the cluster recovers (leases expire,
// killed nodes are back) before the final read.
func recovery(ttl time.Duration) time.Duration { return ttl + 2*time.Second }

func nodeNames(nodes []cluster.Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}

func kindsList(ks []nemesis.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

// newRunID is short, sortable by time, and unique enough to label a run's containers.
func newRunID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// mb is n bytes in megabytes, to one decimal.
func mb(n int64) float64 { return math.Round(float64(n)/(1<<20)*10) / 10 }
