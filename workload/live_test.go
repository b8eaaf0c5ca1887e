package workload

import (
	"testing"

	"github.com/locktest/locktest/history"
)

func acquired(p int, t int64) *history.Op {
	return &history.Op{Time: t, Process: p, Type: history.OK, F: history.Acquire}
}

func releasing(p int, t int64) *history.Op {
	return &history.Op{Time: t, Process: p, Type: history.Invoke, F: history.Release}
}

func incremented(p int, read int64) *history.Op {
	return &history.Op{Process: p, Type: history.OK, F: history.Incr, Value: history.Int64(read)}
}

func TestProvisionalCounts(t *testing.T) {
	var l liveCounts
	// A clean hand-over, then p2 acquires while p1 still believes it holds: one overlap, and
	// both hold.
	for _, op := range []*history.Op{acquired(0, 10), releasing(0, 20), acquired(1, 30), acquired(2, 40)} {
		l.observe(op)
	}
	if got, want := l.counts(100), (Provisional{HoldersNow: 2, Overlaps: 1}); got != want {
		t.Fatalf("after an overlap: %+v, want %+v", got, want)
	}
	// p1 released before p0 acquired, but p0's records arrived first, and p0 even released again
	// before p1's release arrived: a hand-over, not an overlap.
	for _, op := range []*history.Op{releasing(2, 150), acquired(0, 170), releasing(0, 180), releasing(1, 160)} {
		l.observe(op)
	}
	if got, want := l.counts(200), (Provisional{HoldersNow: 0, Overlaps: 1}); got != want {
		t.Fatalf("after a reordered hand-over: %+v, want %+v", got, want)
	}
	// Records younger than the sweep's horizon wait: p3's release may still be on its way.
	l.observe(acquired(3, 300))
	l.observe(acquired(4, 320))
	if got, want := l.counts(310), (Provisional{HoldersNow: 1, Overlaps: 1}); got != want {
		t.Errorf("before the horizon passed p4's acquisition: %+v, want %+v", got, want)
	}
	l.observe(releasing(3, 310))
	if got, want := l.counts(400), (Provisional{HoldersNow: 1, Overlaps: 1}); got != want {
		t.Errorf("a late release inside the window: %+v, want %+v", got, want)
	}
	// Three holders at once are three pairs.
	l.observe(acquired(1, 500))
	l.observe(acquired(2, 510))
	if got := l.counts(600).Overlaps; got != 4 {
		t.Errorf("overlaps with three holders = %d, want 4", got)
	}
}

func TestDuplicateWritesCount(t *testing.T) {
	var l liveCounts
	// Reads of 0, 1, 1 (a lost update), 2, 200, 1 again: two duplicates; a value far beyond the
	// first word of the bitset must work too.
	for _, read := range []int64{0, 1, 1, 2, 200, 1} {
		l.observe(incremented(0, read))
	}
	// Failed and unknown increments wrote nothing (or nothing known yet).
	l.observe(&history.Op{Type: history.Info, F: history.Incr, Value: history.Int64(0)})
	l.observe(&history.Op{Type: history.Fail, F: history.Incr, Value: history.Int64(0)})
	if got := l.counts(0).DuplicateWrites; got != 2 {
		t.Errorf("duplicate writes = %d, want 2", got)
	}
}
