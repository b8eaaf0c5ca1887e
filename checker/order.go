package checker

import (
	"github.com/locktest/locktest/history"
)

// timeOrder puts a history's records back in time order as they are read, keeping only the
// records it cannot release yet (docs/streaming-check.md).
//
// Records reach the history through one pipe per worker process, so the file interleaves the
// processes slightly out of time order; a worker stopped between stamping a record and writing
// it delivers it as late as its pause is long. Each process's own records are in order. So a
// record is released once every worker process has shown a record at least as late (the
// watermark): no record earlier than it can arrive after. Records of the harness and the nemesis
// are written by the coordinator, promptly, and released by the same watermark.
//
// Memory is what arrives during the longest silence of any worker. A worker that never writes
// again (it died) would hold every later record back, so past maxHeld records the oldest are
// released anyway, and a record that then arrives earlier than what was released is passed on
// at once and counted in late.
type timeOrder struct {
	// queues hold each process's records not yet released, in its own order (which is time
	// order): releasing is a merge of their heads, without a heap's copying or allocation. list
	// has them all.
	queues procTable[*recordQueue]
	list   []*recordQueue
	// workers are the worker processes' queues: the watermark waits for each to show a record.
	workers []*recordQueue
	held    int
	seq     int64 // file order of records, for ties
	// released is the time of the latest record released, for telling late arrivals.
	released int64
	maxHeld  int
	late     int64
	emit     func(*history.Op)
	holdAll  bool // no worker count is known: release only at the cap and at the end
}

const minInt64 = -1 << 63

// defaultMaxHeld bounds the records held back: about 30 s of a busy 5-client run.
const defaultMaxHeld = 1 << 20

// newTimeOrder orders the records of processes 0..workers-1 (and any other process that shows up
// later) and hands them to emit. With workers 0 (a history that does not say how many it had:
// one written by hand) nothing can be known to have arrived, so records are held up to the cap
// and sorted whole.
func newTimeOrder(workers int, emit func(*history.Op)) *timeOrder {
	o := &timeOrder{released: minInt64, maxHeld: defaultMaxHeld, emit: emit, holdAll: workers == 0}
	for p := range workers {
		o.queue(p)
	}
	return o
}

// queue is process p's queue, made when p first shows up.
func (o *timeOrder) queue(p int) *recordQueue {
	if q, ok := o.queues.get(p); ok {
		return q
	}
	q := &recordQueue{latest: minInt64}
	o.queues.put(p, q)
	o.list = append(o.list, q)
	if p >= 0 {
		o.workers = append(o.workers, q)
	}
	return q
}

// add takes the next record in file order. It keeps a copy: a reader may reuse op.
func (o *timeOrder) add(op *history.Op) {
	if op.Time < o.released {
		// Later than the watermark allowed: its place has been passed.
		o.late++
		o.emit(op)
		return
	}
	q := o.queue(op.Process)
	q.latest = max(q.latest, op.Time)
	o.seq++
	q.push(heldRecord{op: *op, seq: o.seq})
	o.held++
	if !o.holdAll {
		o.release(o.watermark())
	}
	for o.held > o.maxHeld {
		o.pop()
	}
}

// watermark is the time up to which every record has arrived: the earliest of the workers'
// latest times.
func (o *timeOrder) watermark() int64 {
	w := int64(1<<63 - 1)
	for _, q := range o.workers {
		w = min(w, q.latest)
	}
	return w
}

// release passes on every held record no later than w.
func (o *timeOrder) release(w int64) {
	for {
		q := o.next()
		if q == nil || q.head().op.Time > w {
			return
		}
		o.popFrom(q)
	}
}

// next is the queue whose head comes first (by time, then file order), or nil.
func (o *timeOrder) next() *recordQueue {
	var best *recordQueue
	for _, q := range o.list {
		if q.len() == 0 {
			continue
		}
		if best == nil || q.head().before(best.head()) {
			best = q
		}
	}
	return best
}

func (o *timeOrder) pop() {
	if q := o.next(); q != nil {
		o.popFrom(q)
	}
}

func (o *timeOrder) popFrom(q *recordQueue) {
	// Handed over in place: a copy taken here would escape to the heap, one per record.
	r := q.head()
	o.held--
	o.released = max(o.released, r.op.Time)
	o.emit(&r.op)
	q.drop()
}

// finish releases everything still held: the history has ended.
func (o *timeOrder) finish() {
	for o.held > 0 {
		o.pop()
	}
}

type heldRecord struct {
	op  history.Op
	seq int64
}

func (r *heldRecord) before(s *heldRecord) bool {
	return r.op.Time < s.op.Time || r.op.Time == s.op.Time && r.seq < s.seq
}

// recordQueue is one process's held records in time order.
type recordQueue struct {
	recs   []heldRecord
	at     int   // the head
	latest int64 // the latest time its process has shown (minInt64 before any)
}

func (q *recordQueue) len() int          { return len(q.recs) - q.at }
func (q *recordQueue) head() *heldRecord { return &q.recs[q.at] }

// push adds r, in time order: after the tail, or (a process's record out of its own order, which
// only a hand-made history has) moved back to its place.
func (q *recordQueue) push(r heldRecord) {
	if q.at > 0 && q.at == len(q.recs) {
		q.recs, q.at = q.recs[:0], 0 // empty: reuse the space
	}
	q.recs = append(q.recs, r)
	for i := len(q.recs) - 1; i > q.at && q.recs[i].before(&q.recs[i-1]); i-- {
		q.recs[i], q.recs[i-1] = q.recs[i-1], q.recs[i]
	}
}

// drop removes the head.
func (q *recordQueue) drop() {
	q.recs[q.at] = heldRecord{} // let go of its strings
	q.at++
	if q.at > 1024 && q.at*2 > len(q.recs) {
		// Most of the slice is released records: move the rest down.
		n := copy(q.recs, q.recs[q.at:])
		clear(q.recs[n:])
		q.recs, q.at = q.recs[:n], 0
	}
}
