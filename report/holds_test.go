package report

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/locktest/locktest/checker"
)

// indexHolds finds exactly the stretches in which two or more processes held, on random holds:
// checked against counting, for every stretch between two hold boundaries, the processes holding
// in it.
func TestIndexHoldsAgainstCounting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		var hs []checker.Hold
		for range 1 + rng.IntN(12) {
			s := rng.Int64N(50)
			hs = append(hs, checker.Hold{Process: rng.IntN(4), Start: s, End: s + rng.Int64N(20) - 2})
		}
		ix := indexHolds(hs)
		if want := countOverlaps(ix.holds); !slices.Equal(ix.overlaps, want) {
			t.Fatalf("round %d: holds %+v\noverlaps %v, want %v", round, ix.holds, ix.overlaps, want)
		}
	}
}

// countOverlaps is the slow and obvious way: the maximal stretches between hold boundaries in
// which holds of two or more processes are open.
func countOverlaps(hs []checker.Hold) []nsSpan {
	var ts []int64
	for _, h := range hs {
		if h.End > h.Start {
			ts = append(ts, h.Start, h.End)
		}
	}
	slices.Sort(ts)
	ts = slices.Compact(ts)
	var out []nsSpan
	for k := 0; k+1 < len(ts); k++ {
		from, to := ts[k], ts[k+1]
		procs := map[int]bool{}
		for _, h := range hs {
			if h.End > h.Start && h.Start <= from && to <= h.End {
				procs[h.Process] = true
			}
		}
		if len(procs) < 2 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].to == from {
			out[n-1].to = to
		} else {
			out = append(out, nsSpan{from, to})
		}
	}
	return out
}
