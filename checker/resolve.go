package checker

import (
	"fmt"
	"math"

	"github.com/locktest/locktest/history"
)

// resolve decides, for every increment, whether it changed the counter, and gives the applied
// ones a return time.
//
// Porcupine's cost explodes with open (info) operations, so the storage keeps a write log: the
// write and the log append are one Lua script, hence an id in the log means the write was applied
// and an id missing from a present log means it was not. Only when there is no log at all (the
// harness died before reading it) do info increments stay open.
func resolve(r *run) {
	for i := range r.incrs {
		in := &r.incrs[i]
		if j, ok := r.logIdx[in.id]; ok && in.id != "" {
			in.seq = r.log[j].seq
			if r.log[j].incr < 0 {
				r.log[j].incr = int32(i)
			} else {
				// Ids are unique per run; a reused one makes the log ambiguous for both, so
				// neither is compared with it and no verdict can rest on it.
				r.warn.add("increment id %q is used more than once; the write log cannot tell them apart", in.id)
				in.ambiguous, r.incrs[r.log[j].incr].ambiguous = true, true
				r.incomplete = fmt.Sprintf("increment id %q is used more than once, so the write log cannot say which of them it records", in.id)
			}
		}
	}
	nextRet := r.nextKnownReturns()
	for i := range r.incrs {
		in := &r.incrs[i]
		switch in.status {
		case history.OK:
			// An acknowledged write missing from the log, or logged after the final read, is a
			// disagreement checkLog reports; the client's word is what Porcupine checks.
			r.counts.OK++
			in.outcome, in.ret = outApplied, in.end
		case history.Fail:
			// A failed write the log has anyway is a disagreement checkLog reports.
			r.counts.Fail++
			if in.fenced {
				r.counts.Fenced++
			}
			in.outcome = outNotApplied
		default:
			r.counts.Info++
			switch {
			case in.seq != 0:
				r.counts.InfoApplied++
				in.outcome = outApplied
				e := &r.log[r.logIdx[in.id]]
				if !in.hasRead {
					in.read, in.hasRead = e.value-1, true
				}
				in.ret = max(in.call, nextRet[r.logIdx[in.id]])
				// A write that landed after the final read (it was held back in a delaying proxy,
				// or its client gave up while it was in flight) is not reflected in that read's
				// value: the read is ordered before it, and it does not count against the read.
				in.late = in.seq > r.finalLen
			case r.hasLog:
				r.counts.InfoNotApplied++
				in.outcome = outNotApplied
			default:
				r.counts.InfoUnresolved++
				in.outcome = outUnresolved
				in.ret = math.MaxInt64
				if !in.hasRead {
					r.blindUnresolved++
				}
			}
		}
	}
}

// nextKnownReturns gives, for each write-log entry, a time by which its write had surely been
// applied: the earliest return among later entries' operations that returned ok (the storage
// applies writes in log order, so an earlier write was in place before any later one was
// acknowledged), else the final read's return, else the end of the history. An entry past the
// final read's log length was applied after that read, by the end of the history.
func (r *run) nextKnownReturns() []int64 {
	fallback := r.end
	if r.final >= 0 {
		fallback = r.reads[r.final].ret
	}
	next := make([]int64, len(r.log))
	t := fallback
	for j := len(r.log) - 1; j >= 0; j-- {
		if r.log[j].seq > r.finalLen {
			next[j] = r.end
			continue
		}
		next[j] = t
		if k := r.log[j].incr; k >= 0 && r.incrs[k].status == history.OK {
			t = min(t, r.incrs[k].end)
		}
	}
	return next
}
