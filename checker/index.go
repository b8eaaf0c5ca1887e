package checker

import (
	"fmt"
	"math"
	"slices"

	"github.com/locktest/locktest/history"
)

// outcome is what an increment did to the counter, once the write log has been consulted.
type outcome uint8

const (
	outNotApplied outcome = iota // fail, or info and absent from a present write log
	outApplied                   // ok, or info and present in the write log
	outUnresolved                // info and there is no write log
)

// incr is one increment: its invocation and completion joined, then resolved.
type incr struct {
	process int
	client  int
	id      string
	call    int64        // invocation time
	end     int64        // completion record time (call if there was no completion)
	ret     int64        // return time Porcupine uses; set by resolve
	status  history.Type // how the client saw it end; Info when it never completed
	read    int64        // value read (valid when hasRead)
	hasRead bool
	seq     int64 // position in the write log, 0 when absent
	outcome outcome
	fenced  bool // failed because the storage rejected its token
	late    bool // applied after the final read (its log entry is past the read's log length)
	// ambiguous marks an increment whose id another increment reuses: the log cannot tell which
	// of them an entry records.
	ambiguous bool
}

// written is the value the increment wrote (or would have written).
func (in *incr) written() int64 { return in.read + 1 }

// readOp is a completed read of the counter by the harness.
type readOp struct {
	client int
	id     string
	call   int64
	ret    int64
	value  int64
	logLen int64 // write-log entries in place when the value was read, if hasLen
	hasLen bool
}

// logEntry is one entry of the storage's write log.
type logEntry struct {
	id    string
	value int64
	seq   int64
	incr  int32 // index of the increment that wrote it, -1 if unknown
}

// run is a history indexed for checking. Records are never copied: the checker keeps indices
// into the caller's slice, because a long history holds millions of records.
type run struct {
	ops     []history.Op
	initial int64
	fenced  bool  // the storage checked fencing tokens (Meta.Fencing)
	start   int64 // start of the run: the metadata record, or the earliest record
	end     int64 // the latest record
	// workEnd is the latest record of a client process: the end of the workload (0 without one).
	workEnd int64

	incrs   []incr
	reads   []readOp
	final   int              // index into reads of the final read (latest return), -1 if none
	log     []logEntry       // ordered by seq
	hasLog  bool             // the write log is there and complete (see checkLogComplete)
	logEnd  int64            // entries the write-log-end record announces, -1 without one
	logIdx  map[string]int32 // op id -> index into log (first entry for that id)
	logDups []int32          // later entries of an id already in the log
	// finalLen is how many log entries the final read's value reflects: later entries landed
	// after it. It is the whole log when the final read did not record it.
	finalLen int64
	// incomplete says why the history lacks something the verdict needs ("" when it does not).
	incomplete string

	procs   procRecords // each worker process's records, in time order
	readIdx []int32     // the harness's read records

	counts          OpCounts
	blindUnresolved int64 // unresolved increments without a read value
	warn            warnings
}

// indexHistory joins invocations with completions and gathers what the checks need.
func indexHistory(ops []history.Op) *run {
	var w warnings
	if len(ops) > math.MaxInt32 {
		// Record indices are int32 to halve the index memory; two billion records (hundreds of
		// gigabytes of JSON) is far beyond any run this tool makes.
		w.add("history has %d records; only the first %d are checked", len(ops), math.MaxInt32)
		ops = ops[:math.MaxInt32]
	}
	r := &run{ops: ops, final: -1, procs: newProcRecords(ops), warn: w, logEnd: -1}
	r.start, r.end = math.MaxInt64, math.MinInt64
	metaTime, haveMeta := int64(0), false
	for i := range ops {
		op := &ops[i]
		r.start = min(r.start, op.Time)
		r.end = max(r.end, op.Time)
		if op.Process >= 0 {
			r.procs.add(op.Process, int32(i))
			r.workEnd = max(r.workEnd, op.Time)
		}
		switch op.F {
		case history.RunMeta:
			if op.Meta != nil && !haveMeta {
				haveMeta, metaTime, r.initial = true, op.Time, op.Meta.Initial
				r.fenced = op.Meta.Fencing != "" && op.Meta.Fencing != "none"
			}
		case history.WriteLog:
			if op.Value == nil {
				r.warn.add("write-log entry %d (op %q) has no value; ignored", op.Seq, op.ID)
				continue
			}
			r.log = append(r.log, logEntry{id: op.ID, value: *op.Value, seq: op.Seq, incr: -1})
		case history.WriteLogEnd:
			if op.LogLen != nil {
				if r.logEnd >= 0 {
					r.warn.add("more than one write-log-end record; the last one counts")
				}
				r.logEnd = *op.LogLen
			}
		case history.Read:
			r.readIdx = append(r.readIdx, int32(i))
		case history.Acquire:
			countOutcome(op.Type, &r.counts.AcquireOK, &r.counts.AcquireFail, &r.counts.AcquireInfo)
		case history.Release:
			countOutcome(op.Type, &r.counts.ReleaseOK, &r.counts.ReleaseFail, &r.counts.ReleaseInfo)
		}
	}
	if len(ops) == 0 {
		r.start, r.end = 0, 0
	}
	if haveMeta {
		r.start = metaTime
	} else {
		r.warn.add("no run metadata record: assuming the counter started at 0")
	}
	// Records reach the history through pipes from several processes, so they can be slightly
	// out of order; ties keep file order, which is each process's own order.
	r.procs.sortEach(r.byTime)
	r.indexLog()
	r.indexIncrs()
	r.indexReads()
	r.finalLen = int64(len(r.log))
	if r.final >= 0 && r.reads[r.final].hasLen {
		r.finalLen = min(r.reads[r.final].logLen, r.finalLen)
	}
	return r
}

func (r *run) byTime(a, b int32) int {
	ta, tb := r.ops[a].Time, r.ops[b].Time
	switch {
	case ta < tb:
		return -1
	case ta > tb:
		return 1
	}
	return int(a - b)
}

func countOutcome(t history.Type, ok, fail, info *int64) {
	switch t {
	case history.OK:
		*ok++
	case history.Fail:
		*fail++
	case history.Info:
		*info++
	}
}

// indexLog orders the write log by seq and maps op ids to entries, after checking that it is all
// there: a log cut short would make writes it lacks look unapplied and shift the values chunks
// start from, so it is not used at all, and the history is incomplete.
func (r *run) indexLog() {
	if why := r.checkLogComplete(); why != "" {
		r.incomplete = why
		r.log, r.hasLog = nil, false
		return
	}
	r.hasLog = true
	slices.SortStableFunc(r.log, func(a, b logEntry) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	r.logIdx = make(map[string]int32, len(r.log))
	for i := range r.log {
		e := &r.log[i]
		if i > 0 && e.seq == r.log[i-1].seq {
			r.warn.add("write log has two entries with seq %d", e.seq)
		}
		if _, dup := r.logIdx[e.id]; dup {
			// The storage script appends once per applied write, so an id twice means the
			// write was applied twice (a retried script): a disagreement checkLog reports.
			r.logDups = append(r.logDups, int32(i))
			continue
		}
		r.logIdx[e.id] = int32(i)
	}
}

// checkLogComplete returns why the write log cannot be trusted to be whole, or "".
func (r *run) checkLogComplete() string {
	n := int64(len(r.log))
	switch {
	case r.logEnd < 0 && n == 0:
		return "the storage's write log is missing: unknown writes cannot be resolved, nor stale writes seen"
	case r.logEnd < 0:
		return fmt.Sprintf("the write log has %d entries but no write-log-end record: it may have been cut short", n)
	case n != r.logEnd:
		return fmt.Sprintf("the write log has %d entries but its end record says the storage returned %d: it was cut or altered", n, r.logEnd)
	}
	seen := make([]bool, n+1)
	for _, e := range r.log {
		if e.seq < 1 || e.seq > n || seen[e.seq] {
			return fmt.Sprintf("the write log's seq numbers are not 1..%d (found %d twice or out of range): it was altered", n, e.seq)
		}
		seen[e.seq] = true
	}
	return ""
}

// indexIncrs joins increment invocations with their completions.
func (r *run) indexIncrs() {
	pairs := r.pairIncrs()
	r.incrs = make([]incr, 0, len(pairs))
	for _, p := range pairs {
		var in incr
		if p.inv >= 0 {
			inv := &r.ops[p.inv]
			in.process, in.client, in.id, in.call = inv.Process, inv.Client, inv.ID, inv.Time
		}
		if p.comp < 0 {
			// The process died or the history was cut short: the outcome is unknown.
			in.status, in.end = history.Info, in.call
		} else {
			c := &r.ops[p.comp]
			in.status, in.end, in.fenced = c.Type, c.Time, c.Fenced
			if c.Value != nil {
				in.read, in.hasRead = *c.Value, true
			}
			if p.inv < 0 {
				// No invocation: the op began no earlier than the process's previous record,
				// since a process does one thing at a time. That is the tightest safe bound.
				in.process, in.client, in.id = c.Process, c.Client, c.ID
				in.call = r.prevRecordTime(c.Process, c.Time)
			}
		}
		if in.status == history.OK && !in.hasRead {
			// The reader refuses such a record; a caller that built one in memory gets no verdict
			// built on a guess of what it read.
			r.incomplete = fmt.Sprintf("increment %q completed ok without the value it read", in.id)
			in.status = history.Info
		}
		if in.end < in.call {
			r.warn.add("increment %q completed (%d) before it was invoked (%d)", in.id, in.end, in.call)
			in.end = in.call
		}
		r.incrs = append(r.incrs, in)
	}
}

// indexReads collects the harness's completed reads and picks the final one.
func (r *run) indexReads() {
	for _, p := range pairUp(r.ops, r.readIdx, history.Read, &r.warn) {
		if p.comp < 0 || p.inv < 0 {
			continue
		}
		inv, c := &r.ops[p.inv], &r.ops[p.comp]
		if c.Type != history.OK || c.Value == nil {
			continue
		}
		rd := readOp{client: inv.Client, id: inv.ID, call: inv.Time, ret: max(c.Time, inv.Time), value: *c.Value}
		if c.LogLen != nil {
			rd.logLen, rd.hasLen = *c.LogLen, true
		}
		r.reads = append(r.reads, rd)
	}
	for i, rd := range r.reads {
		if r.final < 0 || rd.ret >= r.reads[r.final].ret {
			r.final = i
		}
	}
}

// prevRecordTime is the time of process p's latest record before t, or t if there is none.
func (r *run) prevRecordTime(p int, t int64) int64 {
	idx := r.procs.of(p)
	i, _ := slices.BinarySearchFunc(idx, t, func(j int32, t int64) int {
		if r.ops[j].Time < t {
			return -1
		}
		return 1
	})
	if i == 0 {
		return t
	}
	return r.ops[idx[i-1]].Time
}

// pair joins an invocation with its completion by index into the history; -1 means missing.
type pair struct{ inv, comp int32 }

// pairIncrs joins increment invocations with their completions. A process does one thing at a
// time, so almost always an increment's completion is the next increment record of the same
// process; matching that way needs no map of a million ids. Whatever does not match so simply
// (a lost completion, a reused or mangled id) goes through pairUp.
func (r *run) pairIncrs() []pair {
	var pairs []pair
	var rest []int32
	for _, p := range r.procs.processes() {
		pending, done := int32(-1), int32(-1) // waiting invocation; last completed invocation
		for _, i := range r.procs.of(p) {
			op := &r.ops[i]
			if op.F != history.Incr {
				continue
			}
			switch {
			case op.Type == history.Invoke:
				if pending >= 0 {
					rest = append(rest, pending)
				}
				pending = i
			case !op.Type.IsCompletion():
			case pending >= 0 && op.ID != "" && r.ops[pending].ID == op.ID:
				pairs = append(pairs, pair{inv: pending, comp: i})
				pending, done = -1, pending
			case pending < 0 && done >= 0 && op.ID != "" && r.ops[done].ID == op.ID:
				r.warn.add("%s %q completed more than once; later completion ignored", history.Incr, op.ID)
			default:
				rest = append(rest, i)
			}
		}
		if pending >= 0 {
			rest = append(rest, pending)
		}
	}
	for i := range r.ops {
		if op := &r.ops[i]; op.F == history.Incr && op.Process < 0 {
			rest = append(rest, int32(i)) // increments should come from workers; be lenient
		}
	}
	slices.Sort(rest) // file order, which pairUp relies on for ambiguous cases
	// The result is grouped by process, not in time order: checks that report "the first" of
	// something look at times themselves.
	return append(pairs, pairUp(r.ops, rest, history.Incr, &r.warn)...)
}

// pairUp joins the invocations of f among the records idx (in file order) with completions by id.
// Ids are unique per run, so the only ambiguity is a broken harness reusing one; then invocations
// and completions of that id are matched in file order. Records without an id are matched per
// process in file order.
func pairUp(ops []history.Op, idx []int32, f history.F, w *warnings) []pair {
	var pairs []pair
	first := make(map[string]int32)
	reused := make(map[string]*fifo) // later invocations of an id already seen
	noID := make(map[int]*fifo)
	for _, i := range idx {
		op := &ops[i]
		if op.F != f || op.Type != history.Invoke {
			continue
		}
		k := int32(len(pairs))
		pairs = append(pairs, pair{inv: i, comp: -1})
		switch _, dup := first[op.ID]; {
		case op.ID == "":
			queue(noID, op.Process).push(k)
		case dup:
			w.add("%s id %q invoked more than once", f, op.ID)
			queue(reused, op.ID).push(k)
		default:
			first[op.ID] = k
		}
	}
	for _, i := range idx {
		op := &ops[i]
		if op.F != f || !op.Type.IsCompletion() {
			continue
		}
		k, known := int32(-1), false
		if op.ID == "" {
			q := noID[op.Process]
			known = q != nil
			k = q.pop()
		} else if j, ok := first[op.ID]; ok {
			known = true
			if pairs[j].comp < 0 {
				k = j
			} else {
				k = reused[op.ID].pop()
			}
		}
		switch {
		case k >= 0:
			pairs[k].comp = i
		case known:
			w.add("%s %q completed more than once; later completion ignored", f, op.ID)
		default:
			w.add("%s %q completed without an invocation", f, op.ID)
			pairs = append(pairs, pair{inv: -1, comp: i})
		}
	}
	return pairs
}

// fifo is a queue of pair indices waiting for a completion.
type fifo struct {
	items []int32
	head  int
}

func queue[K comparable](m map[K]*fifo, k K) *fifo {
	q := m[k]
	if q == nil {
		q = &fifo{}
		m[k] = q
	}
	return q
}

func (q *fifo) push(k int32) { q.items = append(q.items, k) }

// pop returns the oldest waiting pair, or -1. It is safe on a nil queue.
func (q *fifo) pop() int32 {
	if q == nil || q.head >= len(q.items) {
		return -1
	}
	q.head++
	return q.items[q.head-1]
}
