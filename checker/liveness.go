package checker

import (
	"cmp"
	"slices"

	"github.com/locktest/locktest/history"
)

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

// liveness measures r's workload for stalls and lock use.
func liveness(r *run, holds []Hold) Liveness {
	end := r.workEnd
	if end <= r.start {
		return Liveness{}
	}
	var acks []int64
	for i := range r.incrs {
		if in := &r.incrs[i]; in.status == history.OK {
			acks = append(acks, in.end)
		}
	}
	slices.Sort(acks)
	// The gaps: start → first ack, ack → ack, last ack → end.
	stall, stallAt, prev := int64(0), r.start, r.start
	for _, t := range append(acks, end) {
		t = min(max(t, r.start), end)
		if t-prev > stall {
			stall, stallAt = t-prev, prev
		}
		prev = max(prev, t)
	}
	return Liveness{
		WorkloadS:     secs(end - r.start),
		LongestStallS: secs(stall),
		StallStartS:   secs(stallAt - r.start),
		HeldShare:     float64(heldTime(holds, r.start, end)) / float64(end-r.start),
	}
}

// heldTime is how long, within [from, to], at least one of holds was held: the length of their
// union, so overlapping holds (a broken lock, nolock) count once.
func heldTime(holds []Hold, from, to int64) int64 {
	iv := make([][2]int64, 0, len(holds))
	for _, h := range holds {
		s, e := max(h.Start, from), min(h.End, to)
		if e > s {
			iv = append(iv, [2]int64{s, e})
		}
	}
	slices.SortFunc(iv, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var total, curS, curE int64
	open := false
	for _, x := range iv {
		switch {
		case !open:
			curS, curE, open = x[0], x[1], true
		case x[0] > curE:
			total += curE - curS
			curS, curE = x[0], x[1]
		default:
			curE = max(curE, x[1])
		}
	}
	if open {
		total += curE - curS
	}
	return total
}

func secs(ns int64) float64 { return float64(ns) / 1e9 }
