package checker

import (
	"fmt"
	"math"

	"github.com/locktest/locktest/history"
)

// logPass is the first of the streaming check's two passes over a history
// (docs/streaming-check.md): what the second pass needs before it reads the first increment,
// most of all the write log, which a history holds at its end. It keeps the log in a logIndex and
// the harness's few reads; everything else it sees it only counts.
type logPass struct {
	initial int64
	// defended says the data had a defence besides the lock: fencing at the storage, or clients
	// that check their lease before writing or extend it (history.Meta).
	defended bool
	workers  int   // worker processes the run had (Meta.Clients)
	start    int64 // the meta record's time, or the earliest record
	end      int64 // the latest record
	workEnd  int64 // the latest record of a worker process (0 without one)
	haveMeta bool
	metaTime int64

	idx    *logIndex
	logEnd int64 // what the write-log-end record announces, -1 without one
	// inOrder is false once an entry's seq is not its position: the harness writes the log in
	// storage order, so anything else is an altered log.
	inOrder  bool
	badSeq   int64
	hasLog   bool // complete and usable (see incomplete)
	finalLen int64
	// incomplete says why the log cannot be used ("" when it can).
	incomplete string

	reads []readOp
	final int // index into reads of the final read, -1 if none

	readRecs []history.Op // the harness's read records, paired at the end
	warn     warnings
}

func newLogPass() *logPass {
	return &logPass{idx: newLogIndex(), logEnd: -1, inOrder: true, final: -1, start: math.MaxInt64, end: math.MinInt64}
}

// add takes the next record in file order.
func (lp *logPass) add(op *history.Op) {
	lp.start = min(lp.start, op.Time)
	lp.end = max(lp.end, op.Time)
	if op.Process >= 0 {
		lp.workEnd = max(lp.workEnd, op.Time)
	}
	switch op.F {
	case history.RunMeta:
		if op.Meta != nil && !lp.haveMeta {
			lp.haveMeta, lp.initial, lp.workers = true, op.Meta.Initial, op.Meta.Clients
			fenced := op.Meta.Fencing != "" && op.Meta.Fencing != "none"
			lp.defended = fenced || op.Meta.Guard != "" || op.Meta.Extend
			lp.metaTime = op.Time
		}
	case history.WriteLog:
		if op.Value == nil {
			lp.warn.add("write-log entry %d (op %q) has no value; ignored", op.Seq, op.ID)
			return
		}
		if n := int64(lp.idx.len()) + 1; op.Seq != n && lp.inOrder {
			lp.inOrder, lp.badSeq = false, op.Seq
		}
		lp.idx.add(op.ID, *op.Value)
	case history.WriteLogEnd:
		if op.LogLen != nil {
			if lp.logEnd >= 0 {
				lp.warn.add("more than one write-log-end record; the last one counts")
			}
			lp.logEnd = *op.LogLen
		}
	case history.Read:
		lp.readRecs = append(lp.readRecs, *op)
		if op.LogLen != nil && lp.idx.len() == 0 {
			// The final read says how long the log that follows is: room for it at once, rather
			// than growing (and copying) an index of millions of entries.
			lp.idx.reserve(*op.LogLen, lp.workers)
		}
	}
}

// finish settles what the second pass needs: whether the log can be used, the final read, and how
// much of the log that read reflects.
func (lp *logPass) finish() {
	if lp.end == math.MinInt64 {
		lp.start, lp.end = 0, 0
	}
	if lp.haveMeta {
		lp.start = lp.metaTime
	} else {
		lp.warn.add("no run metadata record: assuming the counter started at 0")
	}
	lp.idx.seal()
	if why := lp.logComplete(); why != "" {
		lp.incomplete = why
	} else {
		lp.hasLog = true
	}
	idx := make([]int32, len(lp.readRecs))
	for i := range idx {
		idx[i] = int32(i)
	}
	for _, p := range pairUp(lp.readRecs, idx, history.Read, &lp.warn) {
		if p.comp < 0 || p.inv < 0 {
			continue
		}
		inv, c := &lp.readRecs[p.inv], &lp.readRecs[p.comp]
		if c.Type != history.OK || c.Value == nil {
			continue
		}
		rd := readOp{client: inv.Client, id: inv.ID, call: inv.Time, ret: max(c.Time, inv.Time), value: *c.Value}
		if c.LogLen != nil {
			rd.logLen, rd.hasLen = *c.LogLen, true
		}
		lp.reads = append(lp.reads, rd)
	}
	for i, rd := range lp.reads {
		if lp.final < 0 || rd.ret >= lp.reads[lp.final].ret {
			lp.final = i
		}
	}
	lp.readRecs = nil
	if lp.hasLog {
		lp.finalLen = int64(lp.idx.len())
	}
	if lp.final >= 0 && lp.reads[lp.final].hasLen {
		lp.finalLen = min(lp.reads[lp.final].logLen, lp.finalLen)
	}
}

// logComplete returns why the write log cannot be trusted to be whole, or "" (the messages are
// what the write-log-end record makes checkable, and the harness writes the log in storage order).
func (lp *logPass) logComplete() string {
	n := int64(lp.idx.len())
	switch {
	case lp.logEnd < 0 && n == 0:
		return "the storage's write log is missing: unknown writes cannot be resolved, nor stale writes seen"
	case lp.logEnd < 0:
		return fmt.Sprintf("the write log has %d entries but no write-log-end record: it may have been cut short", n)
	case n != lp.logEnd:
		return fmt.Sprintf("the write log has %d entries but its end record says the storage returned %d: it was cut or altered", n, lp.logEnd)
	case !lp.inOrder:
		return fmt.Sprintf("the write log's seq numbers are not 1..%d in order (found %d out of place): it was altered", n, lp.badSeq)
	}
	return ""
}
