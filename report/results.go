package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/config"
)

// Results is the content of results.json: the checker's findings plus what was run.
type Results struct {
	*checker.Result
	Backend string `json:"backend"`
	Seed    int64  `json:"seed"`
	RunID   string `json:"run_id"`
	// Config is the run's configuration as given, what `locktest repro` runs again.
	Config config.Run `json:"config"`
	// Nodes is how many lock nodes the run had (Config.Nodes may be 0: the backend's usual size).
	Nodes       int     `json:"nodes"`
	Throughput  float64 `json:"throughput_ops_per_s"` // acknowledged increments per second of workload
	Interrupted bool    `json:"interrupted,omitempty"`
	// Incomplete is true when the history lacks its end (the harness died: a cut-short last
	// line, or no final read); the verdict then covers the prefix that was recorded.
	Incomplete bool `json:"incomplete,omitempty"`
	// Analyzed is when `locktest analyze` last re-checked the stored history (RFC 3339).
	Analyzed string  `json:"analyzed,omitempty"`
	Timings  Timings `json:"timings"`
	// Killed counts workers that did not stop within the grace period and were killed.
	Killed int   `json:"killed_workers,omitempty"`
	Files  Files `json:"files"`
	// Scenario is set when a scenario file drove the faults.
	Scenario *ScenarioOutcome `json:"scenario,omitempty"`
	// Coordinator is what the coordinator process used, where the system says (Linux).
	Coordinator *CoordinatorUse `json:"coordinator,omitempty"`
}

// CoordinatorUse is the coordinator's peak resident memory: through the workload, which must stay
// flat however long the run (issue 11), and through the check as well.
type CoordinatorUse struct {
	WorkloadPeakRSSMB float64 `json:"workload_peak_rss_mb"`
	PeakRSSMB         float64 `json:"peak_rss_mb"`
}

// ScenarioOutcome says whether a scenario reached the verdict it expects.
type ScenarioOutcome struct {
	Name   string `json:"name"`
	Expect string `json:"expect"`
	// File is the scenario file, as given (for repro).
	File string `json:"file,omitempty"`
	// Require are the anomalies the scenario's story needs (kept so analyze can re-judge).
	Require []string `json:"require,omitempty"`
	// Met is true when the verdict is the expected one and every step played out.
	Met bool `json:"met"`
	// Error says why the steps did not play out (a wait that timed out, a fault that failed).
	Error string `json:"error,omitempty"`
	// Missing lists the required anomalies that did not occur.
	Missing []string `json:"missing,omitempty"`
}

// Timings say where the run's time went, in seconds.
type Timings struct {
	ImageSeconds        float64 `json:"image_s"`
	ClusterStartSeconds float64 `json:"cluster_start_s"`
	WorkloadSeconds     float64 `json:"workload_s"`
	ClusterStopSeconds  float64 `json:"cluster_stop_s"`
	CheckSeconds        float64 `json:"check_s"`
}

// Files names the run directory's files.
type Files struct {
	History       string `json:"history"`
	Visualization string `json:"visualization,omitempty"`
	// Page is the run's report page (index.html).
	Page      string `json:"page,omitempty"`
	WorkerLog string `json:"worker_log"`
}

// Secs converts a duration to seconds rounded to milliseconds, for Timings.
func Secs(d time.Duration) float64 { return float64(d.Round(time.Millisecond)) / float64(time.Second) }

// PrintSummary writes the end-of-run summary people read: verdict, counts, throughput, and the
// first example of each anomaly.
func PrintSummary(w io.Writer, r *Results, dir string) {
	fencing := ""
	if f := r.Config.Fencing; f != "" && f != "none" {
		fencing = " fencing=" + string(f)
	}
	verdict := verdictLine(r)
	if r.Interrupted {
		// Said first: a partial VALID must not read as a pass.
		verdict = "INTERRUPTED, partial verdict " + verdict
	}
	fmt.Fprintf(w, "\n%s  backend=%s%s clients=%d ttl=%s seed=%d\n", verdict, r.Backend, fencing, r.Config.Clients, r.Config.TTL, r.Seed)
	o := r.Ops
	fmt.Fprintf(w, "  increments: %d ok, %d fail, %d info (%d applied, %d not applied, %d unresolved)\n",
		o.OK, o.Fail, o.Info, o.InfoApplied, o.InfoNotApplied, o.InfoUnresolved)
	fmt.Fprintf(w, "  lock: %d acquired, %d failed, %d unknown; releases: %d ok, %d too late, %d unknown\n",
		o.AcquireOK, o.AcquireFail, o.AcquireInfo, o.ReleaseOK, o.ReleaseFail, o.ReleaseInfo)
	if o.ExtendOK+o.ExtendFail+o.ExtendInfo+o.Skipped > 0 {
		fmt.Fprintf(w, "  client: %d extension(s) ok, %d refused, %d unknown; %d write(s) skipped by the client\n",
			o.ExtendOK, o.ExtendFail, o.ExtendInfo, o.Skipped)
	}
	final := "none"
	if r.FinalValue != nil {
		final = fmt.Sprint(*r.FinalValue)
	}
	fmt.Fprintf(w, "  counter: final %s, acknowledged increments %d; throughput %.0f ops/s\n", final, r.Acknowledged, r.Throughput)
	fmt.Fprintf(w, "  liveness: %s\n", LivenessText(r.Liveness))
	a := r.Anomalies
	fmt.Fprintf(w, "  anomalies: lost_updates=%d overlaps=%d (within validity %d) duplicate_reads=%d stale_writes=%d nonlinearizable=%d",
		a.LostUpdates, a.Overlaps, a.OverlapsWithinValidity, a.DuplicateReads, a.StaleWrites, a.Nonlinearizable)
	if a.LogMismatch > 0 {
		fmt.Fprintf(w, " log_mismatch=%d", a.LogMismatch)
	}
	fmt.Fprintln(w)
	for _, ex := range r.Examples {
		fmt.Fprintf(w, "  - %s: %s\n", ex.Kind, ex.Text)
	}
	if len(r.Faults) > 0 || len(r.Config.Faults) > 0 {
		took, failed := 0, 0
		for _, f := range r.Faults {
			if !f.Outcome.TookEffect() {
				failed++
			} else {
				took++
			}
		}
		fmt.Fprintf(w, "  faults: %d took effect, %d failed to inject", took, failed)
		if took == 0 {
			fmt.Fprint(w, " (a VALID verdict here says nothing about faults)")
		}
		fmt.Fprintln(w)
	}
	if r.Interrupted {
		fmt.Fprintln(w, "  note: the run was interrupted; the verdict covers the part that ran, and the exit status is 130")
	}
	switch {
	case r.Result != nil && r.Result.Incomplete != "":
		fmt.Fprintf(w, "  note: the history is incomplete: %s; it cannot be called valid\n", r.Result.Incomplete)
	case r.Incomplete:
		fmt.Fprintln(w, "  note: the history is incomplete (the harness died before the end); the verdict covers the recorded prefix")
	}
	if r.Killed > 0 {
		fmt.Fprintf(w, "  note: %d worker(s) did not stop in time and were killed\n", r.Killed)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	if sc := r.Scenario; sc != nil {
		switch {
		case sc.Error != "":
			fmt.Fprintf(w, "  scenario %s did not play out: %s\n", sc.Name, sc.Error)
		case sc.Met:
			fmt.Fprintf(w, "  scenario %s: %s, as expected\n", sc.Name, r.Valid)
		case len(sc.Missing) > 0:
			fmt.Fprintf(w, "  scenario %s: EXPECTATION NOT MET: %s, but the story did not happen: no %s\n",
				sc.Name, r.Valid, strings.Join(sc.Missing, ", no "))
		default:
			fmt.Fprintf(w, "  scenario %s: EXPECTATION NOT MET: expected %s, got %s\n", sc.Name, sc.Expect, r.Valid)
		}
	}
	fmt.Fprintf(w, "  results: %s (open %s)\n", dir, PageFile)
}

// LivenessText says in one line how long work stalled and how much of the time the lock was held.
func LivenessText(l checker.Liveness) string {
	if l.WorkloadS == 0 {
		return "no workload recorded"
	}
	return fmt.Sprintf("longest stretch without an acknowledged increment %.1fs (from %.1fs), lock held %.0f%% of the %.1fs workload",
		l.LongestStallS, l.StallStartS, 100*l.HeldShare, l.WorkloadS)
}

func verdictLine(r *Results) string {
	switch r.Valid {
	case checker.Valid:
		return "VALID"
	case checker.Invalid:
		return "INVALID"
	}
	why := []string{}
	if r.Linearizability.Result == "unknown" {
		what := "linearizability check incomplete"
		if n := r.Linearizability.GivenUpOps; n > 0 {
			what += fmt.Sprintf(": %d operations overlapped all along, too long a stretch to check", n)
		}
		why = append(why, what)
	}
	if r.FinalValue == nil {
		why = append(why, "no final read")
	}
	if len(why) == 0 {
		return "UNKNOWN"
	}
	return "UNKNOWN (" + strings.Join(why, ", ") + ")"
}
