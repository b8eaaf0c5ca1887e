package checker

import (
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
				// Ids are unique per run; a reused one makes the log ambiguous for both.
				r.warn.add("increment id %q is used more than once; the write log cannot tell them apart", in.id)
			}
		}
	}
	for j := range r.log {
		if r.log[j].incr < 0 {
			// The log says someone wrote the counter but the history has no such increment: the
			// history is incomplete, and chunk start values taken from the log trust that write.
			r.warn.add("write-log entry %d (op %q) matches no increment in the history", r.log[j].seq, r.log[j].id)
		}
	}
	nextRet := r.nextKnownReturns()
	for i := range r.incrs {
		in := &r.incrs[i]
		switch in.status {
		case history.OK:
			r.counts.OK++
			in.outcome, in.ret = outApplied, in.end
			if r.hasLog && in.seq == 0 {
				r.warn.add("increment %q was acknowledged but is missing from the write log", in.id)
			}
		case history.Fail:
			r.counts.Fail++
			in.outcome = outNotApplied
			if in.seq != 0 {
				r.warn.add("increment %q failed but is in the write log (seq %d); trusting the fail", in.id, in.seq)
			}
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
// acknowledged), else the final read's return, else the end of the history.
func (r *run) nextKnownReturns() []int64 {
	fallback := r.end
	if r.final >= 0 {
		fallback = r.reads[r.final].ret
	}
	next := make([]int64, len(r.log))
	t := fallback
	for j := len(r.log) - 1; j >= 0; j-- {
		next[j] = t
		if k := r.log[j].incr; k >= 0 && r.incrs[k].status == history.OK {
			t = min(t, r.incrs[k].end)
		}
	}
	return next
}
