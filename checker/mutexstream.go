package checker

import (
	"cmp"
	"slices"

	"github.com/locktest/locktest/history"
)

// mutexStream checks mutual exclusion, and measures the lock-use half of liveness, as the records
// arrive in time order (see timeOrder), keeping only the holds still open and the candidate
// overlaps among them, so its memory follows the run's concurrency, not its length
// (docs/streaming-check.md).
//
// It counts pairs of holds of different processes where the later one (by start, then process)
// has some length and starts before the earlier one ends. When a hold
// starts, the ends of the holds still open are not known yet, so each such pair is a candidate,
// decided when both have ended.
type mutexStream struct {
	start int64 // the run's start, for example texts
	open  openHolds
	// candidates are the pairs of open or recently closed holds that overlap if their ends allow.
	candidates []overlapCandidate

	count, inValidity int64
	first             *overlapCandidate // the earliest confirmed pair (see before)

	// The union of holds, for the held share: holding is how many holds are open, since when.
	holding   int
	heldSince int64
	held      int64
	clipAt    int64 // the end of the workload, once known

	// The first earlyHolds closed holds and the last recentHolds (in a ring) are kept for the
	// visualization's window.
	early  []Hold
	ring   []Hold
	ringAt int

	// decided, when set, gets every hold once it has ended and all its candidate pairs are
	// decided: whether it overlaps another process's hold is then known (ScanHolds).
	decided func(h *Hold, overlapping bool)
}

// recentHolds is how many of the latest holds are kept for drawing: the window drawn is decided
// a few chunks behind the reading, well within this many holds.
const recentHolds = 1 << 14

// earlyHolds is how many of the first holds are kept for drawing: more than a window of
// maxVisOps operations from the start of the run can meet.
const earlyHolds = 2 * maxVisOps

// streamHold is one hold while it lasts, with the candidate pairs it is part of.
type streamHold struct {
	Hold
	closed     bool
	candidates int  // undecided candidate pairs it is part of
	overlaps   bool // some decided pair of it overlapped
	at         int  // its place in openHolds.list
}

// openHolds are the holds open now: found by process, and walked as a short list (one per
// process at most).
type openHolds struct {
	byProc procTable[*streamHold]
	list   []*streamHold
}

func (o *openHolds) of(p int) *streamHold {
	h, _ := o.byProc.get(p)
	return h
}

func (o *openHolds) set(p int, h *streamHold) {
	o.byProc.put(p, h)
	h.at = len(o.list)
	o.list = append(o.list, h)
}

func (o *openHolds) remove(h *streamHold) {
	o.byProc.remove(h.Process)
	last := o.list[len(o.list)-1]
	o.list[h.at], last.at = last, h.at
	o.list[len(o.list)-1] = nil
	o.list = o.list[:len(o.list)-1]
}

// overlapCandidate is a pair of holds, a before b in the order of starts (ties by process), that
// overlap if b has some length and a ends after b starts.
type overlapCandidate struct {
	a, b       *streamHold
	inValidity bool
}

func newMutexStream(start int64) *mutexStream {
	return &mutexStream{start: start, clipAt: 1<<63 - 1}
}

// add takes the next record in time order.
func (m *mutexStream) add(op *history.Op) {
	if op.Process < 0 {
		return
	}
	h := m.open.of(op.Process)
	switch {
	case op.F == history.Acquire && op.Type == history.OK:
		if h != nil {
			m.close(h, op.Time, true)
		}
		m.begin(op)
	case op.F == history.Acquire && op.Type == history.Invoke && h != nil:
		m.close(h, op.Time, true)
	case op.F == history.Release && op.Type == history.Invoke && h != nil:
		m.close(h, op.Time, false)
	case op.F == history.Extend && op.Type == history.OK && h != nil && op.Deadline != 0:
		m.extend(h, op.Time, op.Deadline)
	}
}

// extend moves an open hold's validity deadline to the one its extension bought at time t. A
// candidate pair not yet within validity becomes so if both holds are within their validity at
// t: the lock service renewed a lease while another client held the lock in good faith.
func (m *mutexStream) extend(h *streamHold, t, deadline int64) {
	h.Deadline = deadline
	for i := range m.candidates {
		c := &m.candidates[i]
		if c.inValidity || (c.a != h && c.b != h) {
			continue
		}
		other := c.a
		if other == h {
			other = c.b
		}
		if !other.closed && other.Start <= t && other.Deadline > t && deadline > t {
			c.inValidity = true
		}
	}
}

// begin opens a hold and pairs it with every hold still open.
func (m *mutexStream) begin(op *history.Op) {
	b := &streamHold{Hold: Hold{Process: op.Process, Client: op.Client, Owner: op.Owner, Token: op.Token, Start: op.Time, Deadline: op.Deadline}}
	for _, a := range m.open.list {
		c := overlapCandidate{a: a, b: b, inValidity: a.Deadline > b.Start && b.Deadline > b.Start}
		if a.Start == b.Start && a.Process > b.Process {
			c.a, c.b = b, a // equal starts are ordered by process
		}
		a.candidates++
		b.candidates++
		m.candidates = append(m.candidates, c)
	}
	m.open.set(op.Process, b)
	if m.holding == 0 {
		m.heldSince = b.Start
	}
	m.holding++
}

// close ends hold h at end and decides the candidate pairs whose holds have both ended.
func (m *mutexStream) close(h *streamHold, end int64, open bool) {
	h.End, h.Open, h.closed = max(end, h.Start), open, true
	m.open.remove(h)
	m.remember(h.Hold)
	if m.holding--; m.holding == 0 {
		m.held += max(0, min(h.End, m.clipAt)-max(m.heldSince, m.start))
	}
	if h.candidates == 0 {
		m.done(h)
		return
	}
	keep := m.candidates[:0]
	for _, c := range m.candidates {
		if !c.a.closed || !c.b.closed {
			keep = append(keep, c)
			continue
		}
		c.a.candidates--
		c.b.candidates--
		overlap := c.b.End > c.b.Start && c.a.End > c.b.Start
		if overlap {
			c.a.overlaps, c.b.overlaps = true, true
		}
		// b was paired when it began, so a closed hold with no pair left is decided.
		if c.a.candidates == 0 {
			m.done(c.a)
		}
		if c.b.candidates == 0 {
			m.done(c.b)
		}
		if overlap {
			m.count++
			if c.inValidity {
				m.inValidity++
			}
			if m.first == nil || c.before(m.first) {
				first := c
				m.first = &first
			}
		}
	}
	clear(m.candidates[len(keep):])
	m.candidates = keep
}

// done passes on a hold whose overlaps are all decided.
func (m *mutexStream) done(h *streamHold) {
	if m.decided != nil {
		m.decided(&h.Hold, h.overlaps)
	}
}

// remember keeps a closed hold if it is one of the first, or in the ring of the latest.
func (m *mutexStream) remember(h Hold) {
	if len(m.early) < earlyHolds {
		m.early = append(m.early, h)
		return
	}
	if len(m.ring) < recentHolds {
		m.ring = append(m.ring, h)
		return
	}
	m.ring[m.ringAt] = h
	m.ringAt = (m.ringAt + 1) % recentHolds
}

// recent returns the holds kept for drawing: the first ones (a window drawn from the start of the
// run) and the latest (a window at the first illegal chunk, judged a few chunks behind reading).
func (m *mutexStream) recent() []Hold { return append(slices.Clip(m.early), m.ring...) }

// closeAll closes the holds still open at the end of the history (end); workEnd is the end of
// the workload.
func (m *mutexStream) closeAll(end, workEnd int64) {
	// Only holds closed here can end after the workload: the union is clipped to it, as liveness does.
	m.clipAt = workEnd
	// Close in process order, so the outcome does not depend on map order.
	rest := slices.Clone(m.open.list)
	slices.SortFunc(rest, func(a, b *streamHold) int { return cmp.Compare(a.Process, b.Process) })
	for _, h := range rest {
		m.close(h, end, true)
	}
}

// before says whether c comes before d: by the later hold's start (ties by process), then the
// earlier hold's.
func (c *overlapCandidate) before(d *overlapCandidate) bool {
	key := func(h *streamHold) [2]int64 { return [2]int64{h.Start, int64(h.Process)} }
	cb, db := key(c.b), key(d.b)
	if cb != db {
		return cb[0] < db[0] || cb[0] == db[0] && cb[1] < db[1]
	}
	ca, da := key(c.a), key(d.a)
	return ca[0] < da[0] || ca[0] == da[0] && ca[1] < da[1]
}

// finish closes the holds still open at the end of the history (end), writes the counts and the
// first example to res, and returns how long at least one hold was held within [start, workEnd].
func (m *mutexStream) finish(end, workEnd int64, res *Result) (heldNs int64) {
	m.closeAll(end, workEnd)
	res.Anomalies.Overlaps, res.Anomalies.OverlapsWithinValidity = m.count, m.inValidity
	if c := m.first; c != nil {
		at := func(t int64) string { return seconds(t - m.start) }
		res.Examples = append(res.Examples, overlapExample(&c.a.Hold, &c.b.Hold, c.b.Start, min(c.a.End, c.b.End), at))
	}
	return m.held
}
