package checker

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/locktest/locktest/history"
)

// Source is a history that can be read more than once, record by record in file order: a file
// (reopened for each pass), or records in memory.
type Source interface {
	// Scan calls f with every record in order; f's error stops it and is returned. The record is
	// only valid during the call.
	Scan(f func(*history.Op) error) error
}

// Records is a history held in memory, as a Source.
type Records []history.Op

// Scan implements Source.
func (rs Records) Scan(f func(*history.Op) error) error {
	for i := range rs {
		if err := f(&rs[i]); err != nil {
			return err
		}
	}
	return nil
}

// CheckSource checks a history in two passes (three when an anomaly needs naming), keeping what
// follows the run's concurrency and its faults, plus about 16 bytes per write-log entry
// (docs/streaming-check.md). It finds what Check finds. ScanHolds gives the holds, for a report
// that draws them.
func CheckSource(src Source, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	lp := newLogPass()
	var faults []history.Op
	var counts OpCounts
	incrs := 0
	err := src.Scan(func(op *history.Op) error {
		lp.add(op)
		switch op.F {
		case history.Nemesis:
			faults = append(faults, *op)
		case history.Acquire:
			countOutcome(op.Type, &counts.AcquireOK, &counts.AcquireFail, &counts.AcquireInfo)
		case history.Release:
			countOutcome(op.Type, &counts.ReleaseOK, &counts.ReleaseFail, &counts.ReleaseInfo)
		case history.Extend:
			countOutcome(op.Type, &counts.ExtendOK, &counts.ExtendFail, &counts.ExtendInfo)
		case history.Incr:
			if op.Type == history.Invoke {
				incrs++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	lp.finish()

	lin := newLinStream(lp, opts, incrs+len(lp.reads))
	for i, rd := range lp.reads {
		lin.add(streamOp{linOp: linOp{call: rd.call, ret: rd.ret, cut: rd.ret, kind: kindRead, value: rd.value, src: int32(-1 - i)},
			meta: opMeta{process: -1, client: rd.client, id: rd.id, how: "final read"}})
	}
	mutex := newMutexStream(lp.start)
	inc := newIncrStream(lp, &lp.warn, func(in *streamIncr) { lin.add(streamOpOf(in)) })
	order := newTimeOrder(lp.workers, func(op *history.Op) {
		inc.add(op)
		mutex.add(op)
		lin.place(inc.frontier(op.Time))
	})
	// Only the workers' records are checked in time order: the harness's reads and write log and
	// the nemesis's fault records were taken in the first pass (the nemesis stamps a fault when it
	// starts and records it once injected, up to a second later, behind the workers).
	if err := src.Scan(workerRecords(order)); err != nil {
		lin.finish()
		return nil, err
	}
	order.finish()
	inc.finish()
	lin.finish()
	if order.late > 0 {
		lp.warn.add("%d record(s) arrived after records later than them had been checked (a process silent for long); they were checked where they arrived", order.late)
	}

	res := &Result{Initial: lp.initial, Examples: []Example{}}
	res.Ops = inc.counts
	res.Ops.AcquireOK, res.Ops.AcquireFail, res.Ops.AcquireInfo = counts.AcquireOK, counts.AcquireFail, counts.AcquireInfo
	res.Ops.ReleaseOK, res.Ops.ReleaseFail, res.Ops.ReleaseInfo = counts.ReleaseOK, counts.ReleaseFail, counts.ReleaseInfo
	res.Ops.ExtendOK, res.Ops.ExtendFail, res.Ops.ExtendInfo = counts.ExtendOK, counts.ExtendFail, counts.ExtendInfo
	res.Acknowledged, res.AppliedAfterFinalRead = inc.acknowledged, inc.afterFinal
	res.Anomalies.Unresolved = inc.counts.InfoUnresolved
	at := func(t int64) string { return seconds(t - lp.start) }
	if lp.final >= 0 {
		fr := lp.reads[lp.final]
		v := fr.value
		res.FinalValue = &v
		if lost := res.Acknowledged - (v - lp.initial); lost > 0 {
			res.Anomalies.LostUpdates = lost
			res.Examples = append(res.Examples, Example{
				Kind: "lost_updates",
				Text: fmt.Sprintf("the final read at %s returned %d, but %d increments from the initial %d were acknowledged: %d update(s) lost",
					at(fr.ret), v, res.Acknowledged, lp.initial, lost),
				Time: fr.ret,
			})
		}
	}
	res.Anomalies.DuplicateReads = inc.duplicateReads
	stale, staleAt, staleTop := staleEntries(lp)
	res.Anomalies.StaleWrites = stale
	if inc.duplicateReads > 0 || stale > 0 {
		if err := namingPass(src, lp, lin.firstDup, staleAt, staleTop, res, at); err != nil {
			return nil, err
		}
	}
	res.Anomalies.LogMismatch = inc.logMismatch
	if inc.firstMismatch != nil {
		res.Examples = append(res.Examples, *inc.firstMismatch)
	}
	res.Incomplete = lp.incomplete
	if inc.incomplete != "" {
		res.Incomplete = inc.incomplete
	}
	held := mutex.finish(lp.end, lp.workEnd, res)
	if end := lp.workEnd; end > lp.start {
		stall, stallAt := inc.stall, inc.stallAt
		if end-inc.prevAck > stall {
			stall, stallAt = end-inc.prevAck, inc.prevAck
		}
		res.Liveness = Liveness{
			WorkloadS: secs(end - lp.start), LongestStallS: secs(stall), StallStartS: secs(stallAt - lp.start),
			HeldShare: float64(held) / float64(end-lp.start),
		}
	}
	res.Linearizability = lin.summary
	res.Anomalies.Nonlinearizable = lin.illegal
	if sc := lin.first; sc != nil {
		res.Examples = append(res.Examples, illegalExample(sc, at))
	}
	if in := inc.firstUnresolved; in != nil && res.Anomalies.Unresolved > 0 {
		res.Examples = append(res.Examples, unresolvedIncrExample(&in.incr, at))
	}
	res.Valid = judge(res, lp.defended, res.Incomplete, inc.blindUnresolved, &lp.warn)
	res.Warnings = lp.warn.list()
	res.vis = lin.visWindow(mutex.recent())
	res.Faults = faultWindows(faults)
	for _, w := range res.Faults {
		if w.Outcome == FaultUnknown {
			res.Warnings = append(res.Warnings, fmt.Sprintf("fault %s (%s on %s) was not healed cleanly: %s",
				w.ID, w.Kind, strings.Join(w.Targets, ","), w.Error))
		}
	}
	res.AddAnnotations(faultAnnotations(res.Faults, lp.end)...)
	sortExamples(res.Examples)
	res.FirstAnomaly = firstAnomaly(res.Examples, lp.start)
	return res, nil
}

// workerRecords passes the worker processes' records to o.
func workerRecords(o *timeOrder) func(*history.Op) error {
	return func(op *history.Op) error {
		if op.Process >= 0 {
			o.add(op)
		}
		return nil
	}
}

// staleEntries walks the write log in storage order: how many entries did
// not raise the counter, and the first such entry with the one holding the highest value before it.
func staleEntries(lp *logPass) (n int64, at, top int32) {
	at, top = -1, -1
	if !lp.hasLog {
		return 0, -1, -1
	}
	best := int32(-1)
	for j := range int32(lp.idx.len()) {
		v := lp.idx.value(j)
		if best >= 0 && v <= lp.idx.value(best) {
			n++
			if n == 1 {
				at, top = j, best
			}
		}
		if best < 0 || v > lp.idx.value(best) {
			best = j
		}
	}
	return n, at, top
}

// namingPass reads the history once more to name the increments behind two examples: the
// repeated read (every applied increment that read the value dup) and the first stale write (the
// increments that made log entries staleAt and staleTop).
func namingPass(src Source, lp *logPass, dup *int64, staleAt, staleTop int32, res *Result, at func(int64) string) error {
	var group []incr
	byEntry := map[int32]*incr{}
	inc := newIncrStream(lp, &warnings{}, func(*streamIncr) {})
	inc.onResolved = func(in *streamIncr) {
		if dup != nil && in.outcome == outApplied && in.hasRead && in.read == *dup {
			group = append(group, in.incr)
		}
		if in.entry >= 0 && (in.entry == staleAt || in.entry == staleTop) {
			c := in.incr
			byEntry[in.entry] = &c
		}
	}
	order := newTimeOrder(lp.workers, inc.add)
	if err := src.Scan(workerRecords(order)); err != nil {
		return err
	}
	order.finish()
	inc.finish()
	if len(group) >= 2 {
		// By call, ties by process: the order duplicateReads finds them in.
		slices.SortStableFunc(group, func(a, b incr) int {
			return cmp.Or(cmp.Compare(a.call, b.call), cmp.Compare(a.process, b.process))
		})
		a, b := &group[0], &group[1]
		text := fmt.Sprintf("process %d (client %d, op %s) at %s and process %d (client %d, op %s) at %s both read %d and wrote %d",
			a.process, a.client, a.id, at(a.call), b.process, b.client, b.id, at(b.call), a.read, a.written())
		if n := len(group) - 2; n > 0 {
			text += fmt.Sprintf(", and so did %d more", n)
		}
		res.Examples = append(res.Examples, Example{Kind: "duplicate_reads", Text: text, Time: b.call, Processes: distinct(a.process, b.process)})
	}
	if staleAt >= 0 {
		res.Examples = append(res.Examples, staleExample(lp, staleAt, staleTop, byEntry, at))
	}
	return nil
}

// staleExample describes the first stale write.
func staleExample(lp *logPass, j, top int32, byEntry map[int32]*incr, at func(int64) string) Example {
	e, t := lp.idx.value(j), lp.idx.value(top)
	how := "went back"
	if e == t {
		how = "stood still"
	}
	ex := Example{Kind: "stale_writes", Time: lp.end}
	who := func(k int32) string {
		in, ok := byEntry[k]
		if !ok {
			return fmt.Sprintf("op %s", lp.idx.id(k))
		}
		ex.Processes = append(ex.Processes, in.process)
		return fmt.Sprintf("op %s, process %d, invoked at %s", in.id, in.process, at(in.call))
	}
	late, early := who(j), who(top)
	if in, ok := byEntry[j]; ok {
		ex.Time = in.call
	}
	ex.Text = fmt.Sprintf("write %d in storage order (%s) set the counter to %d after write %d (%s) had set it to %d: the counter %s",
		j+1, late, e, top+1, early, t, how)
	ex.Processes = distinct(ex.Processes...)
	return ex
}

// illegalExample describes the first illegal chunk. Porcupine says only that no order fits, so the
// sentence gives where to look: the window, the processes, and the value it started from.
func illegalExample(sc *streamChunk, at func(int64) string) Example {
	var procs []int
	for _, op := range sc.ops {
		if op.kind != kindRead && !slices.Contains(procs, op.meta.process) {
			procs = append(procs, op.meta.process)
		}
	}
	slices.Sort(procs)
	names := make([]string, len(procs))
	for i, p := range procs {
		names[i] = fmt.Sprint(p)
	}
	from := "an unknown value"
	if sc.init.known {
		from = fmt.Sprint(sc.init.value)
	}
	return Example{
		Kind: "nonlinearizable",
		Text: fmt.Sprintf("the %d operations between %s and %s (processes %s) cannot be ordered as atomic increments of a counter starting at %s",
			len(sc.ops), at(sc.c.from), at(sc.c.to), strings.Join(names, ", "), from),
		Time:      sc.c.from,
		Processes: procs,
	}
}

// unresolvedIncrExample names the earliest increment whose effect stayed unknown.
func unresolvedIncrExample(in *incr, at func(int64) string) Example {
	read := "without a read value"
	if in.hasRead {
		read = fmt.Sprintf("after reading %d", in.read)
	}
	return Example{
		Kind: "unresolved",
		Text: fmt.Sprintf("increment %s of process %d (client %d), invoked at %s, ended unknown %s and there is no write log to tell whether it was applied",
			in.id, in.process, in.client, at(in.call), read),
		Time:      in.call,
		Processes: []int{in.process},
	}
}

// visWindow is the drawn window from the operations the stream kept, with the
// holds that overlap it, from the ones the mutual-exclusion stream kept for it.
func (s *linStream) visWindow(holds []Hold) visWindow {
	var v visWindow
	if len(s.vis) == 0 {
		return v
	}
	v.init = s.visInit
	v.ops = make([]linOp, len(s.vis))
	v.meta = make([]opMeta, len(s.vis))
	v.from, v.to = math.MaxInt64, math.MinInt64
	for i, op := range s.vis {
		v.ops[i], v.meta[i] = op.linOp, op.meta
		v.from, v.to = min(v.from, op.call), max(v.to, op.cut)
	}
	for _, h := range holds {
		if h.Start <= v.to && h.End >= v.from {
			v.holds = append(v.holds, h)
		}
	}
	return v
}
