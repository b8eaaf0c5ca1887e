package checker

// Liveness says whether the lock let work happen, beside the anomalies that say whether it kept
// the work safe. A lock that stays correct by stalling (a paused holder that nobody can take over
// from, fenced storage that rejects every write after a token went back) is safe and useless, and
// must be visible as such.
type Liveness struct {
	// WorkloadS is the stretch both figures are measured over, in seconds: from the run's start to
	// the last record of a client process.
	WorkloadS float64 `json:"workload_s"`
	// LongestStallS is the longest stretch of the workload, in seconds, in which no increment was
	// acknowledged: from the start to the first ok increment, between two, or from the last to the
	// end of the workload (the whole workload when none was acknowledged).
	LongestStallS float64 `json:"longest_stall_s"`
	// StallStartS is when that stretch began, in seconds since the run's start.
	StallStartS float64 `json:"stall_start_s"`
	// HeldShare is the share of the workload (0 to 1) in which at least one client believed it
	// held the lock: from an acquisition's ok to its release's invocation (see Hold).
	HeldShare float64 `json:"held_share"`
}

func secs(ns int64) float64 { return float64(ns) / 1e9 }
