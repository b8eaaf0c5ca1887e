package checker

import (
	"cmp"
	"slices"
	"testing"
)

// scannedHold is a hold as ScanHolds gives it.
type scannedHold struct {
	Hold
	overlapping bool
}

// scanHolds is every hold of src, by start (ties by process).
func scanHolds(t *testing.T, src Source) []scannedHold {
	t.Helper()
	var hs []scannedHold
	if err := ScanHolds(src, func(h *Hold, overlapping bool) { hs = append(hs, scannedHold{*h, overlapping}) }); err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(hs, func(a, b scannedHold) int {
		if c := cmp.Compare(a.Start, b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.Process, b.Process)
	})
	return hs
}

// TestScanHoldsAgainstSimulation: on simulated runs of every mode, ScanHolds finds the holds the
// simulation had, in the file's own order, and marks as overlapping exactly those that share more
// than a point with a hold of another process; the pairs number what the checker counts.
func TestScanHoldsAgainstSimulation(t *testing.T) {
	overlapped := 0
	for seed := uint64(1); seed <= 400; seed++ {
		run := simulate(seed)
		got := scanHolds(t, Records(run.ops))
		want := slices.Clone(run.holds)
		slices.SortStableFunc(want, func(a, b simHold) int {
			if c := cmp.Compare(a.start, b.start); c != 0 {
				return c
			}
			return cmp.Compare(a.proc, b.proc)
		})
		if len(got) != len(want) {
			t.Fatalf("seed %d (%v): %d holds scanned, the simulation had %d", seed, run.mode, len(got), len(want))
		}
		for i, g := range got {
			w := want[i]
			if g.Process != w.proc || g.Start != w.start || g.End != w.end || g.Deadline != w.deadline || g.Open != w.open {
				t.Fatalf("seed %d: hold %d is %+v, the simulation had %+v", seed, i, g.Hold, w)
			}
			overlaps := false
			for j, o := range want {
				if j != i && o.proc != w.proc && min(o.end, w.end) > max(o.start, w.start) {
					overlaps = true
				}
			}
			if g.overlapping != overlaps {
				t.Fatalf("seed %d: hold %+v overlapping=%v, want %v", seed, g.Hold, g.overlapping, overlaps)
			}
			if overlaps {
				overlapped++
			}
		}
		res := Check(run.ops, Options{})
		if n, _ := run.overlaps(); res.Anomalies.Overlaps != n {
			t.Fatalf("seed %d: the checker counted %d overlaps, the simulation had %d", seed, res.Anomalies.Overlaps, n)
		}
	}
	if overlapped == 0 {
		t.Fatal("no simulated run had an overlapping hold: the test proves nothing")
	}
}
