package checker

import (
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
	ret     int64        // return time Porcupine uses; set when it is resolved
	status  history.Type // how the client saw it end; Info when it never completed
	read    int64        // value read (valid when hasRead)
	hasRead bool
	seq     int64 // position in the write log, 0 when absent
	outcome outcome
	fenced  bool // failed because the storage rejected its token
	skipped bool // failed because its client chose not to write (history.Op.Skipped)
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

// pair joins an invocation with its completion by index into the history; -1 means missing.
type pair struct{ inv, comp int32 }

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
