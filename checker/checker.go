// Package checker decides whether a recorded locktest history is correct.
//
// A history (see package history) holds the increments that client processes made to a counter
// while holding a distributed lock, the lock events around them, the final value of the counter and
// the storage node's write log. The checker looks at it four ways, because each catches something
// the others miss:
//
//   - Linearizability of the increments and the final read against a counter model, checked with
//     Porcupine piece by piece (see [Options.ChunkOps]): catches lost updates and stale reads even
//     when the final value looks right.
//   - Counter accounting: acknowledged increments against the final value (lost updates), the same
//     value read twice (duplicate reads), and a write log that goes back or stands still (stale
//     writes).
//   - Mutual exclusion: two processes that both believed they held the lock at the same time. A lock
//     that does not exclude is broken even when the data happened to survive.
//   - Resolution of unknown (info) increments through the write log, so that Porcupine sees as few
//     open operations as possible.
//
// The entry point is [Check]; its [Result] marshals to the JSON of results.json.
package checker

import (
	"cmp"
	"slices"
	"time"

	"github.com/locktest/locktest/history"
)

// Defaults for [Options]. They are exported so callers can show them in flag help.
const (
	// DefaultChunkOps is the default target size of one Porcupine check: large enough that the
	// per-check overhead vanishes, small enough that Porcupine's per-check cost (which grows faster
	// than linearly with the number of operations) stays in milliseconds.
	DefaultChunkOps = 1000
	// DefaultTimeout is the default total time budget for all Porcupine checks of one history.
	DefaultTimeout = 5 * time.Minute
)

// Options tunes [Check]. The zero value gives the defaults.
type Options struct {
	// ChunkOps is the target number of operations per Porcupine check (default [DefaultChunkOps]).
	// The history is cut only where no operation is in flight, so a chunk can be larger when the
	// lock let critical sections overlap.
	ChunkOps int
	// Timeout is the total budget for the Porcupine checks (default [DefaultTimeout]). When it is
	// exceeded the unchecked part is reported as unknown, and so is the verdict unless an anomaly
	// was found anyway.
	Timeout time.Duration
	_       struct{}
}

func (o Options) withDefaults() Options {
	if o.ChunkOps <= 0 {
		o.ChunkOps = DefaultChunkOps
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// Check checks a whole history and returns what it found. It never panics on odd input
// (records out of time order, duplicate ids, completions without invocations or the reverse);
// it works around them and lists them in [Result.Warnings].
func Check(ops []history.Op, opts Options) *Result {
	res, _ := CheckSource(inTimeOrder(ops), opts) // records in memory cannot fail to be read
	return res
}

// inTimeOrder gives ops sorted by time, ties in their order in ops, with the write log's entries
// (which share one time) in seq order in the places entries take. The streaming check expects a
// file's order, nearly in time; records in memory may come in any order (a hand-made or shuffled
// history). Only an order of indices is made, not a copy.
func inTimeOrder(ops []history.Op) Source {
	idx := make([]int32, len(ops))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return cmp.Compare(ops[a].Time, ops[b].Time) })
	var logAt, logIdx []int32
	for k, i := range idx {
		if ops[i].F == history.WriteLog {
			logAt, logIdx = append(logAt, int32(k)), append(logIdx, i)
		}
	}
	slices.SortStableFunc(logIdx, func(a, b int32) int { return cmp.Compare(ops[a].Seq, ops[b].Seq) })
	for j, k := range logAt {
		idx[k] = logIdx[j]
	}
	return reordered{ops: ops, idx: idx}
}

// reordered is records read in the order of idx.
type reordered struct {
	ops []history.Op
	idx []int32
}

func (r reordered) Scan(f func(*history.Op) error) error {
	for _, i := range r.idx {
		if err := f(&r.ops[i]); err != nil {
			return err
		}
	}
	return nil
}

// firstAnomaly returns when the earliest anomaly happened, in seconds since start. Overlaps,
// duplicate reads and stale writes carry the time they happened; a nonlinearizable example carries
// the start of its chunk and a lost update the final read, so those only count when nothing more
// precise was found.
func firstAnomaly(examples []Example, start int64) float64 {
	best, fallback := int64(-1), int64(-1)
	for _, ex := range examples {
		switch ex.Kind {
		case "overlaps", "duplicate_reads", "stale_writes":
			if best < 0 || ex.Time < best {
				best = ex.Time
			}
		case "nonlinearizable", "lost_updates":
			if fallback < 0 || ex.Time < fallback {
				fallback = ex.Time
			}
		}
	}
	if best < 0 {
		best = fallback
	}
	if best < 0 {
		return 0
	}
	return float64(best-start) / 1e9
}
