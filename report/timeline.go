package report

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/locktest/locktest/checker"
)

// timeline is one lock-holder chart over [x0, x1] seconds, filled hold by hold in any order: one
// row per process, each believed-held interval a bar (red when it overlaps another process's
// hold, hatched past its lease's deadline, dashed outline when no release was seen); holds
// narrower than minHoldPx are summed into per-bucket occupancy strips whose opacity says how much
// of the bucket the process held the lock. Its size follows the chart's width: a process's holds
// do not overlap each other, so a row has room for few wide ones.
type timeline struct {
	x0, x1         float64
	row            map[int]int
	n              int
	minDur, bucket float64
	occ            [][]float64
	red            [][]bool
	items          []bar
	st             holdStats
}

// holdStats says how many holds a timeline covers and how many it drew one by one.
type holdStats struct{ total, drawn int }

const barHalf = 0.32 // half a bar's height, in rows

func (cs *chartSet) newTimeline(x0, x1 float64) *timeline {
	procs := cs.d.procs
	tl := &timeline{x0: x0, x1: x1, n: len(procs), row: make(map[int]int, len(procs))}
	for i, p := range procs {
		tl.row[p] = i
	}
	secPerPx := (x1 - x0) / (float64(chartWidth) * 0.93)
	tl.minDur, tl.bucket = minHoldPx*secPerPx, bucketPx*secPerPx
	nb := int(math.Ceil((x1-x0)/tl.bucket)) + 1
	tl.occ, tl.red = make([][]float64, tl.n), make([][]bool, tl.n)
	for i := range tl.occ {
		tl.occ[i], tl.red[i] = make([]float64, nb), make([]bool, nb)
	}
	return tl
}

// add draws hold h, red when it overlapped a hold of another process.
func (tl *timeline) add(d *runData, h *checker.Hold, overlapping bool) {
	s, e := d.sec(h.Start), d.sec(h.End)
	if e < tl.x0 || s > tl.x1 {
		return
	}
	r, ok := tl.row[h.Process]
	if !ok {
		return
	}
	y := rowY(r, tl.n)
	tl.st.total++
	if e-s < tl.minDur {
		// Sum into the occupancy buckets it touches.
		a, b := max(s, tl.x0), min(e, tl.x1)
		nb := len(tl.occ[r])
		for k := int((a - tl.x0) / tl.bucket); k < nb && tl.x0+float64(k)*tl.bucket < b; k++ {
			lo := tl.x0 + float64(k)*tl.bucket
			tl.occ[r][k] += min(b, lo+tl.bucket) - max(a, lo)
			if overlapping {
				tl.red[r][k] = true
			}
		}
		return
	}
	tl.st.drawn++
	fill, late := colHeld, colHeldLate
	if overlapping {
		fill, late = colOverlap, colOverlapLate
	}
	dl := e
	if h.Deadline > 0 && h.Deadline < h.End {
		dl = max(s, d.sec(h.Deadline))
	}
	if dl > s {
		tl.items = append(tl.items, bar{x0: s, x1: dl, y0: y - barHalf, y1: y + barHalf, fill: fill})
	}
	if dl < e {
		tl.items = append(tl.items, bar{x0: dl, x1: e, y0: y - barHalf, y1: y + barHalf, fill: late, hatch: fill})
	}
	if h.Open {
		tl.items = append(tl.items, bar{x0: s, x1: e, y0: y - barHalf, y1: y + barHalf, fill: color.Transparent, outline: true})
	}
}

// plot is the chart, its height, and how many holds it covers.
func (tl *timeline) plot(cs *chartSet) (*plot.Plot, vg.Length, holdStats) {
	names := make([]string, tl.n)
	for i, p := range cs.d.procs {
		names[i] = fmt.Sprintf("p%d", p)
	}
	p := newTimePlot(tl.x0, tl.x1, "")
	p.Y.Min, p.Y.Max = -0.6, float64(tl.n)-0.4
	p.Y.Tick.Marker = rowTicks(names)
	p.Y.Tick.Length = 0
	p.Y.LineStyle.Width = 0
	p.Add(&spans{windows: cs.faults, clr: colFault})
	items := tl.items
	// Occupancy strips, runs of buckets with the same shade merged.
	for r := range tl.occ {
		y := rowY(r, tl.n)
		occ, red := tl.occ[r], tl.red[r]
		level := func(k int) int {
			f := occ[k] / tl.bucket
			if f <= 0 {
				return 0
			}
			return min(4, int(math.Ceil(f*4-1e-9)))
		}
		for k := 0; k < len(occ); {
			lv, rd := level(k), red[k]
			j := k + 1
			for j < len(occ) && level(j) == lv && red[j] == rd {
				j++
			}
			if lv > 0 {
				c := colHeld
				if rd {
					c = colOverlap
				}
				items = append(items, bar{x0: tl.x0 + float64(k)*tl.bucket, x1: tl.x0 + float64(j)*tl.bucket, y0: y - barHalf, y1: y + barHalf,
					fill: withAlpha(c, 0.2+0.2*float64(lv))})
			}
			k = j
		}
	}
	p.Add(&bars{items: items, font: cs.labelSm})
	p.Add(&markers{marks: cs.marks, font: cs.labelSm})
	p.X.Min, p.X.Max = tl.x0, tl.x1 // data beyond the range must not stretch it
	return p, vg.Length(tl.n)*rowHeight + axisHeight + 14, tl.st
}

// firstOverlap is where two or more processes first believed they held the lock at once.
type firstOverlap struct {
	at       int64          // CLOCK_MONOTONIC ns
	involved []checker.Hold // the holds open then
}

// findFirstOverlap reads the holds of src for the first instant at which two processes held the
// lock (nil when none did). It keeps only the earliest-starting overlapping holds: every
// overlapping hold that starts by that instant is still open at it (had it ended, its overlap
// would have come earlier), so there are at most one per process of them.
func findFirstOverlap(src checker.Source, procs int) (*firstOverlap, error) {
	keep := procs + 2
	var earliest []checker.Hold
	byStart := func(a, b checker.Hold) int {
		if c := cmp.Compare(a.Start, b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.Process, b.Process)
	}
	err := checker.ScanHolds(src, func(h *checker.Hold, overlapping bool) {
		if !overlapping || len(earliest) == keep && byStart(*h, earliest[keep-1]) >= 0 {
			return
		}
		i, _ := slices.BinarySearchFunc(earliest, *h, byStart)
		earliest = slices.Insert(earliest, i, *h)
		if len(earliest) > keep {
			earliest = earliest[:keep]
		}
	})
	if err != nil {
		return nil, err
	}
	ix := indexHolds(earliest)
	if len(ix.overlaps) == 0 {
		return nil, nil
	}
	fo := &firstOverlap{at: ix.overlaps[0].from}
	for _, h := range ix.holds {
		if h.Start <= fo.at && h.End > fo.at {
			fo.involved = append(fo.involved, h)
		}
	}
	return fo, nil
}

// nearHolds are the holds around the first overlap, kept whole for its close-up, whose window
// depends on how fast holds came after it.
type nearHolds struct {
	at       int64 // the first overlap
	from, to int64 // what is kept: holds that touch [from, to]
	holds    []keptHold
	// later counts holds that start after the close-up's widest reach past the overlap.
	later int
}

type keptHold struct {
	h           checker.Hold
	overlapping bool
}

// The close-up of the first overlap reaches at most closeAfter past it, and before it at most
// closeAfter plus a quarter of it again (to show the earlier holder's deadline), with a margin.
const closeAfter = int64(1e9)

func newNearHolds(at int64) *nearHolds {
	return &nearHolds{at: at, from: at - 2*closeAfter, to: at + 3*closeAfter/2}
}

func (n *nearHolds) add(h *checker.Hold, overlapping bool) {
	if h.Start > n.at+closeAfter {
		n.later++
	}
	if h.End >= n.from && h.Start <= n.to {
		n.holds = append(n.holds, keptHold{*h, overlapping})
	}
}
