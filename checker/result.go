package checker

import (
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// Result is what [Check] found. It marshals to the JSON written to results.json.
type Result struct {
	// Valid is the verdict: see [Validity] for how it is reached.
	Valid Validity `json:"valid"`
	// Ops counts the operations of the history by kind and outcome.
	Ops OpCounts `json:"ops"`
	// Anomalies counts what is wrong; any non-zero count except Unresolved makes the verdict Invalid.
	Anomalies Anomalies `json:"anomalies"`
	// Examples holds the first (earliest) instance of each kind of anomaly, in time order.
	Examples []Example `json:"examples"`
	// Liveness says whether work got done: the longest stall and how much of the time the lock
	// was held. It does not change the verdict.
	Liveness Liveness `json:"liveness"`
	// Linearizability summarises the Porcupine checks.
	Linearizability LinResult `json:"linearizability"`
	// FinalValue is the counter read by the harness after the run, or nil if there is no such read.
	FinalValue *int64 `json:"final_value"`
	// Acknowledged is the number of increments known to have been applied before the final read:
	// ok ones, plus info ones found in the write log within the final read's log length.
	Acknowledged int64 `json:"acknowledged"`
	// AppliedAfterFinalRead counts info increments the write log shows applied after the final
	// read (late bytes from a delaying proxy): real writes, but not ones that read could see.
	AppliedAfterFinalRead int64 `json:"applied_after_final_read,omitempty"`
	// Incomplete says why the history lacks something a verdict needs (a missing or cut write
	// log, an ok increment without its value); "" when nothing is missing. An incomplete history
	// is never valid: without an anomaly its verdict is unknown.
	Incomplete string `json:"incomplete_reason,omitempty"`
	// Initial is the counter's value before the run (from the history's metadata).
	Initial int64 `json:"initial"`
	// FirstAnomaly is when the earliest anomaly happened, in seconds since the run started (0 when
	// there is none): how long a fault schedule took to break the lock.
	FirstAnomaly float64 `json:"first_anomaly_s,omitempty"`
	// Faults are the nemesis's fault windows, in start order.
	Faults []FaultWindow `json:"faults,omitempty"`
	// Warnings lists odd things in the history that the checker worked around, such as a
	// completion without an invocation. They do not change the verdict by themselves.
	Warnings []string `json:"warnings,omitempty"`

	vis visWindow // what WriteVisualization draws
}

// OpCounts counts operations by kind and outcome.
type OpCounts struct {
	// OK, Fail and Info count increments by how their client saw them end. An increment that was
	// invoked but never completed (its process died) counts as Info.
	OK   int64 `json:"ok"`
	Fail int64 `json:"fail"`
	Info int64 `json:"info"`
	// Fenced counts the failed increments the storage rejected for a stale fencing token.
	Fenced int64 `json:"fenced"`
	// Skipped counts the failed increments whose client read and then chose not to write: its
	// lease check found too little validity left (--guard), or its lease could not be extended.
	Skipped int64 `json:"skipped,omitempty"`
	// InfoApplied, InfoNotApplied and InfoUnresolved split Info by what the write log says:
	// applied (its id is in the log), not applied (the log exists and lacks it) or unresolved
	// (there is no write log).
	InfoApplied    int64 `json:"info_applied"`
	InfoNotApplied int64 `json:"info_not_applied"`
	InfoUnresolved int64 `json:"info_unresolved"`
	// AcquireOK, AcquireFail and AcquireInfo count lock acquisitions by outcome.
	AcquireOK   int64 `json:"acquire_ok"`
	AcquireFail int64 `json:"acquire_fail"`
	AcquireInfo int64 `json:"acquire_info"`
	// ReleaseOK, ReleaseFail and ReleaseInfo count lock releases by outcome.
	ReleaseOK   int64 `json:"release_ok"`
	ReleaseFail int64 `json:"release_fail"`
	ReleaseInfo int64 `json:"release_info"`
	// ExtendOK, ExtendFail and ExtendInfo count lease extensions by outcome (--extend).
	ExtendOK   int64 `json:"extend_ok,omitempty"`
	ExtendFail int64 `json:"extend_fail,omitempty"`
	ExtendInfo int64 `json:"extend_info,omitempty"`
}

// Anomalies counts what is wrong with a history.
type Anomalies struct {
	// LostUpdates is how many acknowledged increments the final counter does not reflect:
	// Acknowledged − (final − initial), when positive.
	LostUpdates int64 `json:"lost_updates"`
	// Overlaps is the number of pairs of believed-held intervals of different processes that
	// intersect: mutual-exclusion violations.
	Overlaps int64 `json:"overlaps"`
	// OverlapsWithinValidity counts the overlaps in which both holders were still inside their
	// lease's validity: the lock service itself handed the lock out twice (a clock jump, a node
	// that forgot a key), as opposed to a client outliving its lease (a pause, a delay).
	OverlapsWithinValidity int64 `json:"overlaps_within_validity"`
	// DuplicateReads counts applied increments that read a value another applied increment had
	// already read (k increments reading one value count k−1).
	DuplicateReads int64 `json:"duplicate_reads"`
	// StaleWrites counts write-log entries whose value is not above every value written before
	// them: the counter went back or stood still.
	StaleWrites int64 `json:"stale_writes"`
	// Nonlinearizable is the number of Porcupine checks (chunks) that found the history illegal.
	Nonlinearizable int64 `json:"nonlinearizable"`
	// LogMismatch counts disagreements between the storage's write log and what the clients
	// recorded: a failed (fenced) write the log has, an acknowledged one it lacks or has only
	// after the final read, a logged value other than the value read plus one, a log entry no
	// increment made, an id logged twice. Either the storage or the client is wrong, so neither is
	// believed silently.
	LogMismatch int64 `json:"log_mismatch"`
	// Unresolved counts info increments whose effect could not be decided because there is no
	// write log. They are checked as possibly applied; this count is not an anomaly by itself.
	Unresolved int64 `json:"unresolved"`
}

// Example describes one instance of an anomaly for people.
type Example struct {
	// Kind is the JSON name of the [Anomalies] counter it illustrates, e.g. "lost_updates".
	Kind string `json:"kind"`
	// Text is one sentence naming processes, clients, values and times relative to the start of
	// the run (e.g. "at 3.214s").
	Text string `json:"text"`
	// Time is when it happened, in the history's CLOCK_MONOTONIC nanoseconds.
	Time int64 `json:"time"`
	// Processes are the worker processes involved, if any.
	Processes []int `json:"processes,omitempty"`
}

// LinResult summarises the Porcupine checks of a history.
type LinResult struct {
	// Result is "ok" (every chunk linearizable), "illegal" (some chunk is not) or "unknown" (no
	// illegal chunk, but some chunk timed out or was not checked for lack of time).
	Result string `json:"result"`
	// Chunks is the number of pieces the history was cut into; LargestChunk the size of the largest.
	Chunks       int `json:"chunks"`
	LargestChunk int `json:"largest_chunk"`
	// Unchecked is the number of chunks that timed out or were skipped once the budget was spent,
	// or were given up.
	Unchecked int `json:"unchecked,omitempty"`
	// GivenUpOps counts the operations in stretches without a point at which none was in flight,
	// too long to check (a lock that let critical sections overlap all along); they are in
	// Unchecked as one chunk per stretch.
	GivenUpOps int `json:"given_up_ops,omitempty"`
	// CheckDuration is the wall time of the whole linearizability phase (building and cutting the
	// operations, then the Porcupine checks), in nanoseconds in JSON.
	CheckDuration time.Duration `json:"check_duration_ns"`
	// FirstIllegal is the time window of the first illegal chunk, if any.
	FirstIllegal *Window `json:"first_illegal,omitempty"`
}

// Window is a closed interval of CLOCK_MONOTONIC nanoseconds.
type Window struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Hold is an interval in which a process believed it held the lock: from the return of a
// successful acquisition to the invocation of the matching release.
type Hold struct {
	// Process and Client are the worker process and its client id at the acquisition.
	Process int `json:"process"`
	Client  int `json:"client"`
	// Owner and Token identify the lease (Token is 0 when the backend has no fencing token).
	Owner string `json:"owner,omitempty"`
	Token uint64 `json:"token,omitempty"`
	// Start is when the acquisition returned ok; End when the release was invoked.
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	// Deadline is when the lease's validity ended (0 when unknown).
	Deadline int64 `json:"deadline,omitempty"`
	// Open is true when no release was seen: End is then the process's next acquisition attempt,
	// or the end of the history if the process made none (it died or was killed while holding).
	Open bool `json:"open,omitempty"`
}

// AddAnnotations adds annotations to the visualization written by [Result.WriteVisualization],
// e.g. fault windows from the nemesis. Times are CLOCK_MONOTONIC nanoseconds like the history's.
// Use a Tag (such as "nemesis") rather than a ClientId: client rows are renumbered for drawing.
// Annotations outside the drawn window are dropped and the rest clipped to it.
func (r *Result) AddAnnotations(a ...porcupine.Annotation) {
	r.vis.extra = append(r.vis.extra, a...)
}

// AnomalyNames are the JSON names of the anomaly counters, as scenario files refer to them.
var AnomalyNames = []string{"lost_updates", "overlaps", "overlaps_within_validity", "duplicate_reads", "stale_writes", "nonlinearizable", "log_mismatch"}

// EvidenceNames are what a scenario's require: may name: the anomalies, and the outcomes that
// prove a VALID run was kept valid by a defence rather than by a stale holder that never came to
// write: "fenced" (increments the storage rejected for a stale token), "skipped" (increments
// whose client's lease check held back the write) and "extended" (lease extensions that
// succeeded).
var EvidenceNames = append(slices.Clone(AnomalyNames), "fenced", "skipped", "extended")

// Evidence returns the count with name name (see EvidenceNames).
func (r *Result) Evidence(name string) (int64, bool) {
	switch name {
	case "fenced":
		return r.Ops.Fenced, true
	case "skipped":
		return r.Ops.Skipped, true
	case "extended":
		return r.Ops.ExtendOK, true
	}
	return r.Anomalies.Count(name)
}

// Add adds b's counts to a's, for totals over several runs.
func (a *Anomalies) Add(b Anomalies) {
	a.LostUpdates += b.LostUpdates
	a.Overlaps += b.Overlaps
	a.OverlapsWithinValidity += b.OverlapsWithinValidity
	a.DuplicateReads += b.DuplicateReads
	a.StaleWrites += b.StaleWrites
	a.Nonlinearizable += b.Nonlinearizable
	a.LogMismatch += b.LogMismatch
	a.Unresolved += b.Unresolved
}

// Count returns the counter with JSON name name.
func (a Anomalies) Count(name string) (int64, bool) {
	switch name {
	case "lost_updates":
		return a.LostUpdates, true
	case "overlaps":
		return a.Overlaps, true
	case "overlaps_within_validity":
		return a.OverlapsWithinValidity, true
	case "duplicate_reads":
		return a.DuplicateReads, true
	case "stale_writes":
		return a.StaleWrites, true
	case "nonlinearizable":
		return a.Nonlinearizable, true
	case "log_mismatch":
		return a.LogMismatch, true
	}
	return 0, false
}
