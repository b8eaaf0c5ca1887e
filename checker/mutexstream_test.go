package checker

import (
	"fmt"
	"testing"

	"github.com/locktest/locktest/history"
)

// streamMutex runs the streaming mutual-exclusion check over ops as a file would deliver them.
func streamMutex(ops []history.Op, workers int) (res *Result, held int64, late int64) {
	res = &Result{}
	var start, end, workEnd int64
	var m *mutexStream
	o := newTimeOrder(workers, func(op *history.Op) {
		if m == nil {
			m = newMutexStream(start)
		}
		m.add(op)
	})
	for i := range ops {
		op := &ops[i]
		if i == 0 {
			start, end = op.Time, op.Time
		}
		end = max(end, op.Time)
		if op.Process >= 0 {
			workEnd = max(workEnd, op.Time)
		}
		o.add(op)
	}
	o.finish()
	if m == nil {
		m = newMutexStream(start)
	}
	return res, m.finish(end, workEnd, res), o.late
}

// The streaming check finds exactly the overlaps, overlaps within validity, first example and
// held time of the whole-history one, on every simulated run (records out of order across
// processes, ties, dead holders, flaky and absent locks included).
func TestMutexStreamMatchesBatch(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 500
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		sr := simulate(seed)
		want := Check(sr.ops, Options{})
		r := indexHistory(sr.ops)
		wantHeld := heldTime(want.Holds, r.start, r.workEnd)
		got, held, late := streamMutex(sr.ops, sr.mode.procs)
		tag := fmt.Sprintf("seed %d (%s)", seed, sr.mode)
		if late != 0 {
			t.Errorf("%s: %d records arrived after their place", tag, late)
		}
		if got.Anomalies.Overlaps != want.Anomalies.Overlaps || got.Anomalies.OverlapsWithinValidity != want.Anomalies.OverlapsWithinValidity {
			t.Errorf("%s: overlaps %d (%d within validity), want %d (%d)", tag, got.Anomalies.Overlaps,
				got.Anomalies.OverlapsWithinValidity, want.Anomalies.Overlaps, want.Anomalies.OverlapsWithinValidity)
		}
		if g, w := exampleText(got, "overlaps"), exampleText(want, "overlaps"); g != w {
			t.Errorf("%s: first overlap\n got %s\nwant %s", tag, g, w)
		}
		if r.workEnd > r.start && held != wantHeld {
			t.Errorf("%s: held %d ns, want %d", tag, held, wantHeld)
		}
	}
}

func exampleText(res *Result, kind string) string {
	for _, ex := range res.Examples {
		if ex.Kind == kind {
			return ex.Text
		}
	}
	return ""
}
