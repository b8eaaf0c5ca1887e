package checker

import (
	"container/heap"

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
	// workers are the worker processes the watermark waits for, with the latest time each has
	// shown (minInt64 before its first record).
	workers map[int]int64
	held    recordHeap
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
	o := &timeOrder{workers: make(map[int]int64, workers), released: minInt64, maxHeld: defaultMaxHeld, emit: emit}
	for p := range workers {
		o.workers[p] = minInt64
	}
	o.holdAll = workers == 0
	return o
}

// add takes the next record in file order. It keeps a copy: a reader may reuse op.
func (o *timeOrder) add(op *history.Op) {
	if op.Time < o.released {
		// Later than the watermark allowed: its place has been passed.
		o.late++
		o.emit(op)
		return
	}
	if op.Process >= 0 {
		if t, ok := o.workers[op.Process]; !ok || op.Time > t {
			o.workers[op.Process] = op.Time
		}
	}
	o.seq++
	heap.Push(&o.held, heldRecord{op: *op, seq: o.seq})
	if !o.holdAll {
		o.release(o.watermark())
	}
	for o.held.Len() > o.maxHeld {
		o.pop()
	}
}

// watermark is the time up to which every record has arrived: the earliest of the workers'
// latest times.
func (o *timeOrder) watermark() int64 {
	w := int64(1<<63 - 1)
	for _, t := range o.workers {
		w = min(w, t)
	}
	return w
}

// release passes on every held record no later than w.
func (o *timeOrder) release(w int64) {
	for o.held.Len() > 0 && o.held[0].op.Time <= w {
		o.pop()
	}
}

func (o *timeOrder) pop() {
	r := heap.Pop(&o.held).(heldRecord)
	o.released = max(o.released, r.op.Time)
	o.emit(&r.op)
}

// finish releases everything still held: the history has ended.
func (o *timeOrder) finish() {
	for o.held.Len() > 0 {
		o.pop()
	}
}

type heldRecord struct {
	op  history.Op
	seq int64
}

// recordHeap orders records by time, then by file order (which is each process's own order).
type recordHeap []heldRecord

func (h recordHeap) Len() int { return len(h) }
func (h recordHeap) Less(i, j int) bool {
	if h[i].op.Time != h[j].op.Time {
		return h[i].op.Time < h[j].op.Time
	}
	return h[i].seq < h[j].seq
}
func (h recordHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *recordHeap) Push(x any)   { *h = append(*h, x.(heldRecord)) }
func (h *recordHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = heldRecord{}
	*h = old[:len(old)-1]
	return r
}
