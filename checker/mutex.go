package checker

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/locktest/locktest/history"
)

// checkMutex finds the intervals in which each process believed it held the lock and counts
// pairs of processes whose beliefs overlap. It judges beliefs, not data: fencing can keep the
// data right while two clients both think they hold the lock, and that is still a lock that
// does not lock.
func checkMutex(r *run, res *Result) {
	res.Holds = r.holds()
	n, inValidity, first, ok := findOverlaps(res.Holds)
	res.Anomalies.Overlaps = n
	res.Anomalies.OverlapsWithinValidity = inValidity
	if ok {
		res.Examples = append(res.Examples, r.overlapExample(res.Holds, first))
	}
}

// holds turns each process's lock records into believed-held intervals: from an ok acquisition
// to the next release invocation (the process stops relying on the lock when it starts to
// release it). Without a release the hold is open and lasts until the process's next acquisition
// attempt (its restarted incarnation, or a retry) or, if it made none, the end of the history:
// a killed process may still have a write in flight, so its hold is not cut short.
func (r *run) holds() []Hold {
	// Every hold starts with an ok acquisition, so one allocation holds them all; each process's
	// holds are a contiguous run in it, ordered by start.
	all := make([]Hold, 0, r.counts.AcquireOK)
	var bounds []int // where each process's run starts in all
	for _, p := range r.procs.processes() {
		bounds = append(bounds, len(all))
		var cur Hold
		holding := false
		closeHold := func(end int64, open bool) {
			cur.End, cur.Open = max(end, cur.Start), open
			all = append(all, cur)
			holding = false
		}
		for _, i := range r.procs.of(p) {
			op := &r.ops[i]
			switch {
			case op.F == history.Acquire && op.Type == history.OK:
				if holding {
					closeHold(op.Time, true)
				}
				cur = Hold{Process: op.Process, Client: op.Client, Owner: op.Owner, Token: op.Token, Start: op.Time, Deadline: op.Deadline}
				holding = true
			case op.F == history.Acquire && op.Type == history.Invoke && holding:
				closeHold(op.Time, true)
			case op.F == history.Release && op.Type == history.Invoke && holding:
				closeHold(op.Time, false)
			}
		}
		if holding {
			closeHold(r.end, true)
		}
	}
	bounds = append(bounds, len(all))
	runs := make([][]Hold, 0, len(bounds))
	for k := 1; k < len(bounds); k++ {
		if bounds[k] > bounds[k-1] {
			runs = append(runs, all[bounds[k-1]:bounds[k]])
		}
	}
	return mergeHolds(runs)
}

// mergeHolds merges per-process hold lists, each ordered by start, into one list ordered by
// start, ties broken by process (so the first example never depends on a sort's whims). With a
// few processes a k-way merge is several times faster than sorting a million holds.
func mergeHolds(runs [][]Hold) []Hold {
	less := func(a, b *Hold) bool {
		return a.Start < b.Start || a.Start == b.Start && a.Process < b.Process
	}
	total := 0
	for _, run := range runs {
		total += len(run)
	}
	out := make([]Hold, 0, total)
	if len(runs) > 16 {
		for _, run := range runs {
			out = append(out, run...)
		}
		slices.SortFunc(out, func(a, b Hold) int {
			if c := cmp.Compare(a.Start, b.Start); c != 0 {
				return c
			}
			return cmp.Compare(a.Process, b.Process)
		})
		return out
	}
	for {
		best := -1
		for k := range runs {
			if len(runs[k]) > 0 && (best < 0 || less(&runs[k][0], &runs[best][0])) {
				best = k
			}
		}
		if best < 0 {
			return out
		}
		out = append(out, runs[best][0])
		runs[best] = runs[best][1:]
	}
}

// overlap is one intersecting pair of holds: indices into the hold list and the common interval.
type overlap struct {
	a, b     int
	from, to int64
}

// findOverlaps counts pairs of holds of different processes whose intervals share more than a
// point, and returns the earliest pair. holds must be sorted by Start. It sweeps over starts
// keeping the holds still active; with a handful of processes that set stays tiny, so the cost
// is linear in the number of holds.
//
// inValidity counts the pairs whose holders were both inside their validity when the overlap began.
func findOverlaps(holds []Hold) (count, inValidity int64, first overlap, found bool) {
	var active []int
	for i := range holds {
		h := &holds[i]
		keep := active[:0]
		for _, j := range active {
			if holds[j].End > h.Start {
				keep = append(keep, j)
			}
		}
		active = keep
		if h.End > h.Start {
			for _, j := range active {
				if holds[j].Process == h.Process {
					continue
				}
				count++
				if from := h.Start; holds[j].Deadline > from && h.Deadline > from {
					inValidity++
				}
				if !found {
					first, found = overlap{a: j, b: i, from: h.Start, to: min(h.End, holds[j].End)}, true
				}
			}
		}
		active = append(active, i)
	}
	return count, inValidity, first, found
}

// overlapExample describes an overlap, including whether each holder was still inside its
// validity: two holders both inside their validity means the lock service itself handed out the
// lock twice (Kleppmann's clock scenario), while an expired holder means a client outlived its
// lease (a pause or delay).
func (r *run) overlapExample(holds []Hold, o overlap) Example {
	return overlapExample(&holds[o.a], &holds[o.b], o.from, o.to, r.at)
}

// overlapExample describes holds a and b overlapping from from to to; at formats a time.
func overlapExample(a, b *Hold, from, to int64, at func(int64) string) Example {
	describe := func(h *Hold) string {
		s := fmt.Sprintf("process %d (client %d, owner %q, token %d, acquired at %s", h.Process, h.Client, h.Owner, h.Token, at(h.Start))
		if h.Open {
			s += ", never released"
		}
		return s + ")"
	}
	var validity string
	inside := func(h *Hold) bool { return h.Deadline != 0 && h.Deadline > from }
	switch {
	case inside(a) && inside(b):
		validity = "both were still inside their validity"
	default:
		var parts []string
		for _, h := range []*Hold{a, b} {
			switch {
			case h.Deadline == 0:
				parts = append(parts, fmt.Sprintf("process %d's validity is unknown", h.Process))
			case inside(h):
				parts = append(parts, fmt.Sprintf("process %d was inside its validity", h.Process))
			default:
				parts = append(parts, fmt.Sprintf("process %d's validity had ended at %s", h.Process, at(h.Deadline)))
			}
		}
		validity = strings.Join(parts, ", ")
	}
	return Example{
		Kind: "overlaps",
		Text: fmt.Sprintf("%s and %s both believed they held the lock from %s to %s; %s",
			describe(a), describe(b), at(from), at(to), validity),
		Time:      from,
		Processes: distinct(a.Process, b.Process),
	}
}
