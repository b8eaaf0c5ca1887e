package checker

import (
	"fmt"
	"slices"

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
	for i := range r.incrs {
		in := &r.incrs[i]
		if in.ambiguous {
			continue
		}
		who := func() string {
			return fmt.Sprintf("increment %s (process %d, invoked at %s)", in.id, in.process, r.at(in.call))
		}
		procs := []int{in.process}
		switch {
		case in.status == history.Fail && in.seq != 0:
			add(in.call, procs, "%s failed, so it surely had no effect, but the write log has it (seq %d)", who(), in.seq)
			continue
		case in.status == history.OK && in.seq == 0:
			add(in.call, procs, "%s was acknowledged, but the write log lacks it", who())
			continue
		case in.status == history.OK && in.seq > r.finalLen:
			add(in.call, procs, "%s was acknowledged before the final read, but the write log has it after that read (seq %d, read at log length %d)", who(), in.seq, r.finalLen)
		}
		if in.seq != 0 && in.hasRead {
			if e := &r.log[r.logIdx[in.id]]; e.value != in.written() {
				add(in.call, procs, "%s read %d, so it wrote %d, but the write log says it wrote %d (seq %d)", who(), in.read, in.written(), e.value, e.seq)
			}
		}
	}
	for j := range r.log {
		if e := &r.log[j]; e.incr < 0 && !slices.Contains(r.logDups, int32(j)) {
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
