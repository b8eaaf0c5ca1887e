package checker

import (
	"slices"
	"testing"

	"github.com/locktest/locktest/history"
)

// Records of two workers interleaved out of time order come out in time order; ties keep file
// order; nothing is released before every worker has shown a later record.
func TestTimeOrderWatermark(t *testing.T) {
	var out []int64
	o := newTimeOrder(2, func(op *history.Op) { out = append(out, op.Time) })
	for _, r := range []struct {
		p    int
		time int64
	}{{0, 10}, {0, 20}, {0, 30}, {1, 15}, {-2, 16}, {1, 25}, {1, 40}, {0, 35}} {
		o.add(&history.Op{Process: r.p, Time: r.time})
		if r.p == 0 && r.time == 30 && len(out) != 0 {
			t.Fatalf("released %v before worker 1 said anything", out)
		}
	}
	o.finish()
	if want := []int64{10, 15, 16, 20, 25, 30, 35, 40}; !slices.Equal(out, want) {
		t.Errorf("order %v, want %v", out, want)
	}
	if o.late != 0 {
		t.Errorf("late = %d", o.late)
	}
}

// A worker that falls silent holds records back only up to the cap; what it says afterwards about
// the past is passed on at once and counted as late.
func TestTimeOrderCap(t *testing.T) {
	var out []int64
	o := newTimeOrder(2, func(op *history.Op) { out = append(out, op.Time) })
	o.maxHeld = 3
	o.add(&history.Op{Process: 1, Time: 1})
	for tm := int64(10); tm <= 60; tm += 10 {
		o.add(&history.Op{Process: 0, Time: tm})
	}
	if len(out) != 4 || o.held != 3 {
		t.Fatalf("released %v, %d held; want 4 released, 3 held", out, o.held)
	}
	o.add(&history.Op{Process: 1, Time: 5}) // behind what was released
	o.finish()
	if want := []int64{1, 10, 20, 30, 5, 40, 50, 60}; !slices.Equal(out, want) {
		t.Errorf("order %v, want %v", out, want)
	}
	if o.late != 1 {
		t.Errorf("late = %d, want 1", o.late)
	}
}
