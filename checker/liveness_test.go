package checker

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// A stall is the longest stretch without an acknowledged increment, wherever it falls: at the
// start, between two acks, or at the end.
func TestLongestStall(t *testing.T) {
	for _, c := range []struct {
		name        string
		b           *builder
		stall, from float64 // seconds
	}{
		{"between two acks", newBuilder(0).ok(0, "a", 100, 200, 0).ok(1, "b", 3200, 3300, 1).ok(0, "c", 3400, 3500, 2), 3.1, 0.2},
		{"before the first ack", newBuilder(0).incr(0, 0, "x", 100, 150, "fail", nil).ok(1, "b", 4000, 4100, 0).ok(0, "c", 4200, 4300, 1), 4.1, 0},
		{"after the last ack", newBuilder(0).ok(0, "a", 100, 200, 0).incr(1, 1, "x", 300, 5200, "info", nil), 5.0, 0.2},
		{"no ack at all", newBuilder(0).incr(0, 0, "x", 100, 2000, "fail", nil), 2.0, 0},
	} {
		res := Check(c.b.ops, Options{})
		l := res.Liveness
		if !near(l.LongestStallS, c.stall) || !near(l.StallStartS, c.from) {
			t.Errorf("%s: stall %.3fs from %.3fs, want %.3fs from %.3fs", c.name, l.LongestStallS, l.StallStartS, c.stall, c.from)
		}
	}
}

// The held share counts the union of holds, so two clients holding at once (a broken lock) do
// not count twice, and a gap with nobody holding counts for nothing.
func TestHeldShare(t *testing.T) {
	b := newBuilder(0).
		hold(0, 1, 0, 1000, 5000).   // [0, 1s]
		hold(1, 2, 500, 1500, 5000). // overlaps: the union is [0, 1.5s]
		hold(0, 3, 3000, 3500, 8000) // [3s, 3.5s]
	b.ok(0, "end", 3600, 4000, 0) // the workload ends at 4s
	l := Check(b.ops, Options{}).Liveness
	if !near(l.WorkloadS, 4) || !near(l.HeldShare, 2.0/4) {
		t.Errorf("workload %.3fs, held %.3f; want 4s, 0.5", l.WorkloadS, l.HeldShare)
	}
	// Nested, touching, and a hold never released cut at the end of the workload (the last
	// client record, 25 ms), not of the history (the final read, 40 ms).
	b = newBuilder(0).hold(0, 1, 10, 20, 100).hold(1, 2, 12, 15, 100).hold(2, 3, 20, -1, 100)
	b.ok(0, "end", 24, 25, 0).final(40, 1)
	if l := Check(b.ops, Options{}).Liveness; !near(l.HeldShare, 15.0/25) {
		t.Errorf("held %.3f of the workload, want %.3f", l.HeldShare, 15.0/25)
	}
}

// A history without client records has no workload to measure: zeros, not a division by zero.
func TestLivenessOfEmptyWorkload(t *testing.T) {
	if l := Check(newBuilder(0).ops, Options{}).Liveness; l != (Liveness{}) {
		t.Errorf("empty workload: %+v", l)
	}
}
