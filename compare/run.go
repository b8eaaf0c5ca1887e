package compare

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/explore"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
)

// Params configures a matrix run.
type Params struct {
	// Base holds every test parameter but those a cell sets (backend, fencing, faults, seed,
	// results directory).
	Base harness.Params
	// Runs is how many times each cell runs, with different seeds.
	Runs int
	// Dir is the matrix's results directory; each cell's runs go below it.
	Dir string
	// ReuseClusters runs the cells of one backend on one cluster instead of a fresh one each.
	ReuseClusters bool
	// Progress, if set, is called after each run.
	Progress func(done, total int, c Cell, run RunSummary)
	_        struct{}
}

// RunSummary is one run of a cell.
type RunSummary struct {
	Seed       int64             `json:"seed"`
	Verdict    string            `json:"verdict"`
	Anomalies  checker.Anomalies `json:"anomalies"`
	Throughput float64           `json:"throughput_ops_per_s"`
	// Liveness is whether work got done: the longest stall and the share of time the lock was held.
	Liveness checker.Liveness `json:"liveness"`
	// FirstAnomalyS is when the run's first anomaly happened, in seconds since it started (0: none).
	FirstAnomalyS float64 `json:"first_anomaly_s,omitempty"`
	// Faults counts the faults that took effect (injections that failed are not counted).
	Faults int `json:"faults"`
	// Dir is the run's results directory, relative to the matrix directory.
	Dir   string `json:"dir,omitempty"`
	Error string `json:"error,omitempty"`
	// Seconds is how long the run took, cluster and check included.
	Seconds float64 `json:"seconds"`
}

// CellResult is what a cell's runs found.
type CellResult struct {
	Cell
	// Verdict is "invalid" if any run was (a violation found once is found), else "unknown" if
	// any run was unknown or failed, else "valid".
	Verdict string       `json:"verdict"`
	Invalid int          `json:"invalid_runs"`
	Runs    []RunSummary `json:"runs"`
}

// runTest runs one test; tests of Run replace it.
var runTest = harness.Test

// Run runs every cell of plan. It stops early when ctx ends, returning the cells whose every run
// finished: a cell with a run cut short, or runs left to do, is not run, so no verdict of it (a
// partial VALID least of all) reaches the matrix.
func Run(ctx context.Context, p Params, plan Plan) []CellResult {
	if p.Runs < 1 {
		p.Runs = 1
	}
	total, done := len(plan.Cells)*p.Runs, 0
	var results []CellResult
	var shared sharedCluster
	defer shared.close()
	for i, c := range plan.Cells {
		cr := CellResult{Cell: c}
		for r := 0; r < p.Runs; r++ {
			if ctx.Err() != nil {
				return results
			}
			hp := p.Base
			hp.Backend, hp.Fencing = c.Backend, c.Fencing
			if p.ReuseClusters {
				hp.Reuse = shared.get(ctx, hp)
			}
			hp.Faults, hp.Profile = nil, ""
			switch _, err := explore.Of(c.Fault); {
			case c.Fault == NoFault:
			case err == nil:
				hp.Profile = c.Fault
			default:
				hp.Faults = []nemesis.Kind{nemesis.Kind(c.Fault)}
			}
			// Distinct, reproducible seeds per cell and run, the same in a shard as in the whole plan.
			hp.Seed = p.Base.Seed + int64(plan.position(i))*1000 + int64(r)
			hp.ResultsDir = filepath.Join(p.Dir, cellDir(c))
			rs := RunSummary{Seed: hp.Seed}
			began := time.Now()
			out, err := runTest(ctx, hp)
			rs.Seconds = time.Since(began).Seconds()
			if cutShort(ctx, out, err) {
				return results
			}
			if err != nil || !healed(out) {
				// The cluster may be left broken: the next run gets a fresh one.
				shared.close()
			}
			if err != nil {
				rs.Verdict, rs.Error = "error", err.Error()
			} else {
				res := out.Results
				rs.Verdict, rs.Anomalies, rs.Throughput, rs.Liveness = res.Valid.String(), res.Anomalies, res.Throughput, res.Liveness
				rs.FirstAnomalyS = res.FirstAnomaly
				for _, f := range res.Faults {
					if f.Outcome.TookEffect() {
						rs.Faults++
					}
				}
				if rel, err := filepath.Rel(p.Dir, out.Dir); err == nil {
					rs.Dir = rel
				}
				noFault(&rs, c)
			}
			cr.Runs = append(cr.Runs, rs)
			done++
			if p.Progress != nil {
				p.Progress(done, total, c, rs)
			}
		}
		cr.Verdict = combine(cr.Runs)
		for _, r := range cr.Runs {
			if r.Verdict == "invalid" {
				cr.Invalid++
			}
		}
		results = append(results, cr)
	}
	return results
}

// cutShort says whether a run was interrupted (ctx ended) before it could finish: its results are
// partial, or it failed because of the interruption.
func cutShort(ctx context.Context, out *harness.Outcome, err error) bool {
	if out != nil && out.Results != nil && out.Results.Interrupted {
		return true
	}
	return err != nil && ctx.Err() != nil
}

// healed says whether every fault of a run was healed cleanly, so its cluster is fit to reuse.
func healed(out *harness.Outcome) bool {
	if out == nil || out.Results == nil {
		return false
	}
	for _, f := range out.Results.Faults {
		if f.Outcome == checker.FaultUnknown {
			return false
		}
	}
	return true
}

// sharedCluster is the cluster the runs of one backend share. Sharing is sound because every run
// heals its faults, resets the storage, and waits out its last TTL fault-free, so leftover locks
// expire; a run that errs or fails to heal gives its cluster up. It saves the start of a cluster
// per cell: seconds for Redis, most of ten for a ZooKeeper ensemble.
type sharedCluster struct {
	backend lock.Backend
	cl      *cluster.Containers
}

// get returns the cluster for p's backend, starting it if needed; nil (each run starts its own)
// if starting failed, so the run reports the error itself.
func (s *sharedCluster) get(ctx context.Context, p harness.Params) cluster.Cluster {
	if s.cl != nil && s.backend == p.Backend {
		return s.cl
	}
	s.close()
	s.backend = p.Backend
	cl, err := harness.StartCluster(ctx, p)
	if err != nil {
		return nil
	}
	s.cl = cl
	return cl
}

func (s *sharedCluster) close() {
	if s.cl != nil {
		s.cl.Close(context.Background())
		s.cl = nil
	}
}

// noFault makes a faulted cell's run that never managed to inject its fault "unknown": VALID
// would claim the backend survived a fault it never met. (An INVALID verdict stays evidence.)
func noFault(rs *RunSummary, c Cell) {
	if c.Fault != NoFault && rs.Faults == 0 && rs.Verdict == "valid" {
		rs.Verdict, rs.Error = "unknown", "no "+c.Fault+" fault took effect during the run"
	}
}

func combine(runs []RunSummary) string {
	verdict := "valid"
	for _, r := range runs {
		switch r.Verdict {
		case "invalid":
			return "invalid"
		case "valid":
		default:
			verdict = "unknown"
		}
	}
	return verdict
}

func cellDir(c Cell) string {
	return strings.Join([]string{string(c.Backend), string(c.Fencing), c.Fault}, "_")
}

// Estimate says roughly how long a plan takes: each run's time limit plus about five seconds of
// cluster start, teardown and checking.
func Estimate(plan Plan, runs int, limit time.Duration) time.Duration {
	return time.Duration(len(plan.Cells)*max(runs, 1)) * (limit + 5*time.Second)
}

// Sum adds the anomaly counts of a cell's runs.
func (cr CellResult) Sum() checker.Anomalies {
	var a checker.Anomalies
	for _, r := range cr.Runs {
		a.Add(r.Anomalies)
	}
	return a
}

// MeanThroughput is the mean throughput of the runs that produced one.
func (cr CellResult) MeanThroughput() float64 {
	var sum float64
	n := 0
	for _, r := range cr.Runs {
		if r.Error == "" {
			sum += r.Throughput
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// Liveness sums up the cell's runs that produced a result: the longest stall of any of them, and
// the mean share of time the lock was held. ok is false when no run produced one.
func (cr CellResult) Liveness() (longestStallS, heldShare float64, ok bool) {
	n := 0
	for _, r := range cr.Runs {
		if r.Error == "" && r.Liveness.WorkloadS > 0 {
			longestStallS = max(longestStallS, r.Liveness.LongestStallS)
			heldShare += r.Liveness.HeldShare
			n++
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	return longestStallS, heldShare / float64(n), true
}

// LivenessText is Liveness as a cell shows it.
func (cr CellResult) LivenessText() string {
	stall, held, ok := cr.Liveness()
	if !ok {
		return ""
	}
	return fmt.Sprintf("longest stall %.1fs, held %.0f%%", stall, 100*held)
}

// Detection says how hard the cell looked and what it found: a VALID cell is "not found in n
// runs of d seconds", never "safe"; an INVALID one says in how many of its runs, and how soon
// (the median time to the first anomaly of the runs that found one). Either also says in how many
// runs two holders overlapped inside their leases: there the lock service itself handed the lock
// out twice, where other overlaps are a client that outlived its lease (a fenced cell can be VALID
// with such runs: the fence kept the data safe from a lock that failed).
func (cr CellResult) Detection() string {
	var firsts []float64
	var secs float64
	n, inLeases := 0, 0
	for _, r := range cr.Runs {
		if r.Error != "" && r.Verdict == "error" {
			continue
		}
		n++
		secs = max(secs, r.Liveness.WorkloadS)
		if r.Verdict == "invalid" && r.FirstAnomalyS > 0 {
			firsts = append(firsts, r.FirstAnomalyS)
		}
		if r.Anomalies.OverlapsWithinValidity > 0 {
			inLeases++
		}
	}
	if n == 0 {
		return ""
	}
	runs := fmt.Sprintf("%d run(s)", n)
	if secs > 0 {
		runs += fmt.Sprintf(" of %.0fs", secs)
	}
	text := "not found in " + runs
	if cr.Invalid > 0 {
		text = fmt.Sprintf("found in %d of %s", cr.Invalid, runs)
	}
	if len(firsts) > 0 {
		slices.Sort(firsts)
		text += fmt.Sprintf(", first anomaly after %.1fs (median)", median(firsts))
	}
	if inLeases > 0 {
		text += fmt.Sprintf("; two holders inside their leases in %d", inLeases)
	}
	return text
}

// median of sorted xs (not empty).
func median(xs []float64) float64 {
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// Label is the cell's short text: "INVALID 2/3" or "VALID".
func (cr CellResult) Label() string {
	s := strings.ToUpper(cr.Verdict)
	if len(cr.Runs) > 1 && cr.Verdict == "invalid" {
		s += fmt.Sprintf(" %d/%d", cr.Invalid, len(cr.Runs))
	}
	return s
}
