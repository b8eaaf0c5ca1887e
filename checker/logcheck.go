package checker

import (
	"fmt"

	"github.com/locktest/locktest/history"
)

// checkLog compares the storage's write log with what the clients recorded. The two are written
// by different parties (the storage's script, the client's reply handling), so they can disagree
// only if one of them is wrong: a storage that applied a write it refused, a client that recorded
// fail for a write that happened, a lost or invented log line. Each disagreement is an anomaly
// (log_mismatch), never silently resolved in favour of either side.
func checkLog(r *run, res *Result) {
	if !r.hasLog {
		return
	}
	var first *Example
	add := func(t int64, procs []int, format string, args ...any) {
		res.Anomalies.LogMismatch++
		if first == nil || t < first.Time {
			first = &Example{Kind: "log_mismatch", Time: t, Processes: procs, Text: fmt.Sprintf(format, args...)}
		}
	}
	// Only a disagreement costs anything: a long history has millions of increments that agree.
	mismatch := func(in *incr, format string, args ...any) {
		add(in.call, []int{in.process}, "increment %s (process %d, invoked at %s) "+format,
			append([]any{in.id, in.process, r.at(in.call)}, args...)...)
	}
	for i := range r.incrs {
		in := &r.incrs[i]
		switch {
		case in.ambiguous:
			continue
		case in.status == history.Fail && in.seq != 0:
			mismatch(in, "failed, so it surely had no effect, but the write log has it (seq %d)", in.seq)
			continue
		case in.status == history.OK && in.seq == 0:
			mismatch(in, "was acknowledged, but the write log lacks it")
			continue
		case in.status == history.OK && in.seq > r.finalLen:
			mismatch(in, "was acknowledged before the final read, but the write log has it after that read (seq %d, read at log length %d)", in.seq, r.finalLen)
		}
		if in.seq != 0 && in.hasRead {
			if e := &r.log[r.logIdx[in.id]]; e.value != in.written() {
				mismatch(in, "read %d, so it wrote %d, but the write log says it wrote %d (seq %d)", in.read, in.written(), e.value, e.seq)
			}
		}
	}
	dup := make(map[int32]bool, len(r.logDups))
	for _, j := range r.logDups {
		dup[j] = true
	}
	for j := range r.log {
		if e := &r.log[j]; e.incr < 0 && !dup[int32(j)] {
			add(r.end, nil, "write-log entry %d (op %s, value %d) matches no increment in the history", e.seq, e.id, e.value)
		}
	}
	for _, j := range r.logDups {
		e := &r.log[j]
		add(r.end, nil, "op %s is in the write log twice (again at seq %d): its write was applied twice", e.id, e.seq)
	}
	if first != nil {
		res.Examples = append(res.Examples, *first)
	}
}
