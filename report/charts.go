package report

// The charts of the run page (page.go), drawn with gonum.org/v1/plot and rendered to SVG with its
// vgsvg back end, then embedded inline in the HTML.
//
// The lock-holder and fault timelines are gonum plots too, drawn by two small custom plotters
// (bars and spans below) rather than hand-written SVG: that way they share the axes, tick labels,
// fonts and alignment of the latency, throughput and counter charts, so a fault window, a hold and
// a latency spike at the same second line up vertically on the page. The custom plotters merge
// all rectangles of one colour into a single SVG path, which keeps a chart of thousands of holds
// to tens of kilobytes.
//
// Everything that scales with the history is downsampled before it reaches gonum: holds shorter
// than a pixel become per-pixel occupancy strips, latencies are bucketed (maximum and median per
// bucket, every fail and info kept up to a cap), the counter is reduced to the minimum and maximum
// per pixel. A chart therefore has at most a few thousand elements whatever the length of the run.

import (
	"bytes"
	"container/heap"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/history"
)

// Chart geometry, in SVG points. The page shows charts at up to chartWidth CSS pixels, so a point
// is about a pixel.
const (
	chartWidth  = vg.Length(1160)
	rowHeight   = vg.Length(22) // one process or fault target in a timeline
	axisHeight  = vg.Length(44) // x axis, its label and some air
	plotHeight  = vg.Length(190)
	minHoldPx   = 1.5 // holds narrower than this many points are drawn as occupancy
	bucketPx    = 2.0 // width of an occupancy bucket, points
	maxScatter  = 4000
	maxZooms    = 3
	zoomContext = 2.0 // seconds drawn on each side of an anomaly example
	maxZoomSpan = 10.0
)

var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

	colHeld          = rgb(0x3b, 0x6f, 0xb6)
	colHeldLate      = rgb(0xa9, 0xc1, 0xe3)
	colOverlap       = rgb(0xd6, 0x27, 0x28)
	colOverlapLate   = rgb(0xf4, 0xb0, 0xb0)
	colFault         = color.NRGBA{R: 0xff, G: 0xb3, B: 0x3b, A: 0x55}
	colMarker        = rgb(0x6a, 0x1b, 0x9a)
	colOK            = rgb(0x3b, 0x6f, 0xb6)
	colOKMedian      = rgb(0x7f, 0xa7, 0xd9)
	colFail          = rgb(0xd6, 0x27, 0x28)
	colInfo          = rgb(0xe0, 0x8a, 0x00)
	colWritten       = rgb(0x3b, 0x6f, 0xb6)
	colAcknowledged  = rgb(0x2c, 0xa0, 0x2c)
	colFinal         = rgb(0xd6, 0x27, 0x28)
	colFaultFailed   = rgb(0xbb, 0xbb, 0xbb)
	colOutline       = rgb(0x22, 0x22, 0x22)
	faultKindColours = map[string]color.Color{
		"partition":    rgb(0x94, 0x67, 0xbd),
		"pause-node":   rgb(0x8c, 0x56, 0x4b),
		"pause-client": rgb(0xe3, 0x77, 0xc2),
		"clock":        rgb(0x17, 0xbe, 0xcf),
		"kill":         rgb(0x44, 0x44, 0x44),
		"delay":        rgb(0xbc, 0xbd, 0x22),
	}
)

func rgb(r, g, b uint8) color.Color { return color.NRGBA{R: r, G: g, B: b, A: 0xff} }

func withAlpha(c color.Color, a float64) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = uint8(math.Round(a * 255))
	return n
}

// ---------------------------------------------------------------------------------------------
// The run's data, reduced to what the charts need.

// runData is what the charts need from the history, gathered in one pass over it.
type runData struct {
	t0, end int64 // CLOCK_MONOTONIC ns: the run's start (its RunMeta record) and last record
	procs   []int // worker processes, ascending
	// Completed increments by outcome (fail and info are drawn one by one, thinned to a known count).
	nOK, nFail, nInfo int
	// pending counts increments invoked but never completed.
	pending int
	final   *int64
	finalT  float64
	initial int64
	lost    int64 // lost updates, from the checker
}

func (d *runData) sec(t int64) float64 { return float64(t-d.t0) / 1e9 }

// span is the drawn time range in seconds, never empty.
func (d *runData) span() float64 { return math.Max(d.sec(d.end), 1e-3) }

// gatherRun reads what the charts need from the history src (nil: none), one record at a time,
// and returns it with the run's meta record and how many records there were.
func gatherRun(r *Results, src checker.Source) (*runData, *history.Meta, int, error) {
	d := &runData{initial: r.Initial, lost: r.Anomalies.LostUpdates}
	t0set := false
	procs := map[int]bool{}
	invoked := map[string]bool{}
	var meta *history.Meta
	records := 0
	first := int64(0)
	if src != nil {
		err := src.Scan(func(op *history.Op) error {
			if records == 0 {
				first = op.Time
			}
			records++
			if op.F == history.RunMeta && !t0set {
				d.t0, t0set = op.Time, true
				if op.Meta != nil {
					m := *op.Meta
					meta = &m
				}
			}
			if op.F != history.WriteLog && op.Time > d.end {
				d.end = op.Time
			}
			if op.Process >= 0 && (op.F == history.Acquire || op.F == history.Incr || op.F == history.Release) {
				procs[op.Process] = true
			}
			switch op.F {
			case history.Incr:
				if op.Type == history.Invoke {
					invoked[op.ID] = true
					return nil
				}
				if _, ok := invoked[op.ID]; !ok || !op.Type.IsCompletion() {
					return nil
				}
				delete(invoked, op.ID)
				switch op.Type {
				case history.OK:
					d.nOK++
				case history.Fail:
					d.nFail++
				default:
					d.nInfo++
				}
			case history.Read:
				if op.Type == history.OK && op.Value != nil {
					v := *op.Value
					d.final, d.finalT = &v, float64(op.Time)
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, 0, err
		}
	}
	d.pending = len(invoked)
	if !t0set {
		d.t0 = math.MaxInt64
		if records > 0 {
			d.t0 = first
		}
		// Without a history the results still say when things happened.
		for _, f := range r.Faults {
			d.t0 = min(d.t0, f.Start)
		}
		if d.t0 == math.MaxInt64 {
			d.t0 = 0
		}
	}
	for _, f := range r.Faults {
		d.end = max(d.end, f.Start, f.End)
	}
	for _, ex := range r.Examples {
		d.end = max(d.end, ex.Time)
	}
	if d.end < d.t0 {
		d.end = d.t0
	}
	if d.final != nil {
		d.finalT = (d.finalT - float64(d.t0)) / 1e9
	}
	for p := range procs {
		d.procs = append(d.procs, p)
	}
	sort.Ints(d.procs)
	return d, meta, records, nil
}

// ---------------------------------------------------------------------------------------------
// Holds and their overlaps.

// nsSpan is a half-open interval of CLOCK_MONOTONIC nanoseconds.
type nsSpan struct{ from, to int64 }

// holdIndex is a few holds sorted by start, with the stretches in which two or more of their
// processes held at once (findFirstOverlap's sweep; the timelines get each hold's overlap from
// the checker).
type holdIndex struct {
	holds []checker.Hold // by start
	// overlaps are the maximal intervals in which two or more processes believed they held the lock.
	overlaps []nsSpan
}

func indexHolds(hs []checker.Hold) *holdIndex {
	ix := &holdIndex{holds: hs}
	byStart := func(a, b checker.Hold) int { return cmpInt64(a.Start, b.Start) }
	if !slices.IsSortedFunc(hs, byStart) {
		// Sorted in place would change the caller's slice: a copy.
		ix.holds = slices.Clone(hs)
		slices.SortStableFunc(ix.holds, byStart)
	}
	// A sweep over the starts, ending first every hold that ended by then (ends before starts at
	// the same instant: touching holds do not overlap). Only the open holds are kept, in a heap
	// by end.
	ends := &endHeap{}
	count := map[int]int{}
	active := 0
	var open int64
	step := func(t int64, proc, d int) {
		before := active
		c := count[proc]
		count[proc] = c + d
		if c == 0 && d > 0 {
			active++
		} else if c == 1 && d < 0 {
			active--
		}
		switch {
		case before < 2 && active >= 2:
			open = t
			if n := len(ix.overlaps); n > 0 && ix.overlaps[n-1].to == t {
				// One holder left as another came, at the same instant: the stretch goes on.
				open, ix.overlaps = ix.overlaps[n-1].from, ix.overlaps[:n-1]
			}
		case before >= 2 && active < 2:
			if t > open {
				ix.overlaps = append(ix.overlaps, nsSpan{open, t})
			}
		}
	}
	endUpTo := func(t int64) {
		for ends.Len() > 0 && (*ends)[0].t <= t {
			e := heap.Pop(ends).(holdEnd)
			step(e.t, e.proc, -1)
		}
	}
	for _, h := range ix.holds {
		if h.End <= h.Start {
			continue
		}
		endUpTo(h.Start)
		step(h.Start, h.Process, +1)
		heap.Push(ends, holdEnd{h.End, h.Process})
	}
	endUpTo(math.MaxInt64)
	return ix
}

// holdEnd is when an open hold of proc ends.
type holdEnd struct {
	t    int64
	proc int
}

// endHeap orders open holds by end (ties by process, so the sweep does not depend on the heap).
type endHeap []holdEnd

func (h endHeap) Len() int { return len(h) }
func (h endHeap) Less(i, j int) bool {
	return h[i].t < h[j].t || h[i].t == h[j].t && h[i].proc < h[j].proc
}
func (h endHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)   { *h = append(*h, x.(holdEnd)) }
func (h *endHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------------------------------
// Custom plotters.

// bar is a rectangle in data coordinates.
type bar struct {
	x0, x1, y0, y1 float64
	fill           color.Color
	hatch          color.Color // diagonal lines over the fill, nil for none
	outline        bool
	label          string
}

// bars draws rectangles, merging all of one colour into one SVG path, and labels them when the
// label fits (or, for a narrow bar, just right of it when that space is free).
type bars struct {
	items []bar
	font  text.Style
}

func (b *bars) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	type group struct {
		clr  color.Color
		path vg.Path
	}
	var fills, hatches []*group
	find := func(gs *[]*group, clr color.Color) *group {
		for _, g := range *gs {
			if g.clr == clr {
				return g
			}
		}
		g := &group{clr: clr}
		*gs = append(*gs, g)
		return g
	}
	var outlines vg.Path
	type rect struct{ x0, x1, y0, y1 vg.Length }
	clip := func(it bar) (rect, bool) {
		r := rect{trX(it.x0), trX(it.x1), trY(it.y0), trY(it.y1)}
		r.x0, r.x1 = max(r.x0, c.Min.X), min(r.x1, c.Max.X)
		r.y0, r.y1 = max(r.y0, c.Min.Y), min(r.y1, c.Max.Y)
		if r.x1-r.x0 < 0.3 { // keep a sliver visible
			if r.x0 > c.Max.X || r.x1 < c.Min.X {
				return r, false
			}
			r.x1 = r.x0 + 0.3
		}
		return r, r.y1 > r.y0
	}
	for _, it := range b.items {
		r, ok := clip(it)
		if !ok {
			continue
		}
		g := find(&fills, it.fill)
		g.path.Move(vg.Point{X: r.x0, Y: r.y0})
		g.path.Line(vg.Point{X: r.x1, Y: r.y0})
		g.path.Line(vg.Point{X: r.x1, Y: r.y1})
		g.path.Line(vg.Point{X: r.x0, Y: r.y1})
		g.path.Close()
		if it.hatch != nil {
			hatch(&find(&hatches, it.hatch).path, r.x0, r.x1, r.y0, r.y1, 5)
		}
		if it.outline {
			outlines.Move(vg.Point{X: r.x0, Y: r.y0})
			outlines.Line(vg.Point{X: r.x1, Y: r.y0})
			outlines.Line(vg.Point{X: r.x1, Y: r.y1})
			outlines.Line(vg.Point{X: r.x0, Y: r.y1})
			outlines.Close()
		}
	}
	for _, g := range fills {
		c.SetColor(g.clr)
		c.Fill(g.path)
	}
	for _, g := range hatches {
		c.SetLineStyle(draw.LineStyle{Color: g.clr, Width: 0.8})
		c.Stroke(g.path)
	}
	if len(outlines) > 0 {
		c.SetLineStyle(draw.LineStyle{Color: colOutline, Width: 1, Dashes: []vg.Length{3, 2}})
		c.Stroke(outlines)
	}
	// Labels: inside the bar when they fit, else to its right unless that would run into the
	// previous label of the same row.
	lastEnd := map[float64]vg.Length{}
	for _, it := range b.items {
		if it.label == "" {
			continue
		}
		r, ok := clip(it)
		if !ok {
			continue
		}
		w := b.font.Width(it.label)
		sty := b.font
		x := r.x0 + 3
		if w+6 > r.x1-r.x0 {
			x = r.x1 + 3
			sty.Color = colOutline
		}
		if x < lastEnd[it.y0] || x+w > c.Max.X {
			continue
		}
		lastEnd[it.y0] = x + w + 4
		sty.YAlign = draw.YCenter
		c.FillText(sty, vg.Point{X: x, Y: (r.y0 + r.y1) / 2}, it.label)
	}
}

// hatch adds to p diagonal lines every gap points, clipped to the rectangle.
func hatch(p *vg.Path, x0, x1, y0, y1, gap vg.Length) {
	h := y1 - y0
	// Lines x − y = k − y0 for k from x0 − h to x1.
	for k := x0 - h - vg.Length(math.Mod(float64(x0), float64(gap))); k < x1; k += gap {
		// On the line, x = k + (y − y0); clip y so that x stays within [x0, x1].
		ya := max(y0, y0+(x0-k))
		yb := min(y1, y0+(x1-k))
		if yb <= ya {
			continue
		}
		p.Move(vg.Point{X: k + (ya - y0), Y: ya})
		p.Line(vg.Point{X: k + (yb - y0), Y: yb})
	}
}

// spans shades time windows over the whole height of the data area: fault windows.
type spans struct {
	windows [][2]float64
	clr     color.Color
}

func (s *spans) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	var p vg.Path
	for _, w := range s.windows {
		x0, x1 := max(trX(w[0]), c.Min.X), min(trX(w[1]), c.Max.X)
		if x1-x0 < 1 {
			if x0 > c.Max.X || x1 < c.Min.X {
				continue
			}
			x1 = x0 + 1
		}
		p.Move(vg.Point{X: x0, Y: c.Min.Y})
		p.Line(vg.Point{X: x1, Y: c.Min.Y})
		p.Line(vg.Point{X: x1, Y: c.Max.Y})
		p.Line(vg.Point{X: x0, Y: c.Max.Y})
		p.Close()
	}
	if len(p) > 0 {
		c.SetColor(s.clr)
		c.Fill(p)
	}
}

// mark is a numbered anomaly example at a time.
type mark struct {
	t     float64
	label string
}

// markers draws a dashed vertical line at each mark with its number at the top; marks closer
// than a few points share a line and list their numbers together.
type markers struct {
	marks []mark
	font  text.Style
}

func (m *markers) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	type group struct {
		x      vg.Length
		labels []string
	}
	var gs []group
	for _, mk := range m.marks {
		x := trX(mk.t)
		if x < c.Min.X-0.5 || x > c.Max.X+0.5 {
			continue
		}
		if n := len(gs); n > 0 && x-gs[n-1].x < 6 {
			gs[n-1].labels = append(gs[n-1].labels, mk.label)
			continue
		}
		gs = append(gs, group{x: x, labels: []string{mk.label}})
	}
	sty := draw.LineStyle{Color: colMarker, Width: 1.2, Dashes: []vg.Length{4, 3}}
	for _, g := range gs {
		c.StrokeLine2(sty, g.x, c.Min.Y, g.x, c.Max.Y)
	}
	for _, g := range gs {
		label := strings.Join(g.labels, ",")
		ts := m.font
		ts.Color = color.White
		ts.XAlign, ts.YAlign = draw.XCenter, draw.YTop
		w, h := ts.Width(label)+6, ts.Height(label)+2
		x := min(max(g.x, c.Min.X+w/2), c.Max.X-w/2)
		box := vg.Rectangle{Min: vg.Point{X: x - w/2, Y: c.Max.Y - h}, Max: vg.Point{X: x + w/2, Y: c.Max.Y}}
		c.SetColor(colMarker)
		c.Fill(box.Path())
		c.FillText(ts, vg.Point{X: x, Y: c.Max.Y - 1}, label)
	}
}

// points draws many small glyphs as one SVG path: crosses (stroked) or triangles (filled).
type points struct {
	xys      plotter.XYs
	clr      color.Color
	triangle bool
}

func (p *points) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	var path vg.Path
	const r = 3.2
	for _, xy := range p.xys {
		pt := vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
		if !c.Contains(pt) {
			continue
		}
		if p.triangle {
			path.Move(vg.Point{X: pt.X, Y: pt.Y + r})
			path.Line(vg.Point{X: pt.X + r, Y: pt.Y - r*0.8})
			path.Line(vg.Point{X: pt.X - r, Y: pt.Y - r*0.8})
			path.Close()
		} else {
			path.Move(vg.Point{X: pt.X - r, Y: pt.Y - r})
			path.Line(vg.Point{X: pt.X + r, Y: pt.Y + r})
			path.Move(vg.Point{X: pt.X - r, Y: pt.Y + r})
			path.Line(vg.Point{X: pt.X + r, Y: pt.Y - r})
		}
	}
	if len(path) == 0 {
		return
	}
	if p.triangle {
		c.SetColor(p.clr)
		c.Fill(path)
		return
	}
	c.SetLineStyle(draw.LineStyle{Color: p.clr, Width: 1.3})
	c.Stroke(path)
}

// polyline draws line segments (a line broken where data is missing) as one SVG path.
type polyline struct {
	segs []plotter.XYs
	clr  color.Color
	w    vg.Length
	// bucket is the width in data units a lone point stands for; it is drawn as a level dash.
	bucket float64
}

func (pl *polyline) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	var path vg.Path
	for _, seg := range pl.segs {
		pts := make([]vg.Point, len(seg))
		for i, xy := range seg {
			pts[i] = vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
		}
		if len(pts) == 1 { // a lone point: a dash as wide as its bucket, at least a few points
			x0, x1 := trX(seg[0].X-pl.bucket/2), trX(seg[0].X+pl.bucket/2)
			if x1-x0 < 4 {
				x0, x1 = pts[0].X-2, pts[0].X+2
			}
			pts = []vg.Point{{X: x0, Y: pts[0].Y}, {X: x1, Y: pts[0].Y}}
		}
		for _, l := range c.ClipLinesXY(pts) {
			path.Move(l[0])
			for _, pt := range l[1:] {
				path.Line(pt)
			}
		}
	}
	if len(path) > 0 {
		c.SetLineStyle(draw.LineStyle{Color: pl.clr, Width: pl.w})
		c.Stroke(path)
	}
}

// callout writes a short text at a data point, e.g. the final read.
type callout struct {
	x, y float64
	text string
	font text.Style
}

func (co *callout) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	pt := vg.Point{X: trX(co.x), Y: trY(co.y)}
	c.SetColor(colFinal)
	c.Fill(vg.Rectangle{Min: vg.Point{X: pt.X - 3.5, Y: pt.Y - 3.5}, Max: vg.Point{X: pt.X + 3.5, Y: pt.Y + 3.5}}.Path())
	sty := co.font
	sty.Color = colFinal
	sty.YAlign = draw.YTop
	x, y := pt.X+7, pt.Y-5
	if x+sty.Width(co.text) > c.Max.X {
		sty.XAlign = draw.XRight
		x = pt.X - 4
	}
	if y-sty.Height(co.text) < c.Min.Y { // no room below: above
		sty.YAlign = draw.YBottom
		y = pt.Y + 5
	}
	c.FillText(sty, vg.Point{X: x, Y: y}, co.text)
}

// ---------------------------------------------------------------------------------------------
// Plots.

func textStyle(size vg.Length) text.Style {
	return text.Style{Color: color.Black, Font: font.From(sansFont, size), Handler: plot.DefaultTextHandler}
}

// newTimePlot is a plot whose x axis is seconds since the start of the run, from x0 to x1.
func newTimePlot(x0, x1 float64, ylabel string) *plot.Plot {
	p := plot.New()
	p.X.Min, p.X.Max = x0, x1
	p.X.Label.Text = "seconds since the start of the run"
	p.Y.Label.Text = ylabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sansFont, 11)
		ax.Tick.Label.Font = font.From(sansFont, 10)
		ax.Padding = 2
		ax.Tick.Length = 5
	}
	p.X.Tick.Marker = timeTicks{}
	return p
}

// timeTicks labels a time axis with round numbers of seconds (or milliseconds in close-ups).
type timeTicks struct{}

func (timeTicks) Ticks(lo, hi float64) []plot.Tick {
	step := niceStep((hi - lo) / 10)
	var ticks []plot.Tick
	prec := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.*f", prec, v)})
		for k := 1; k < 5; k++ { // minor ticks
			if mv := v + step*float64(k)/5; mv < hi {
				ticks = append(ticks, plot.Tick{Value: mv})
			}
		}
	}
	return ticks
}

// numTicks labels a linear axis with about five round numbers.
type numTicks struct{}

func (numTicks) Ticks(lo, hi float64) []plot.Tick {
	step := niceStep((hi - lo) / 5)
	prec := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%.*f", prec, v)})
	}
	return ticks
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	p := math.Pow10(int(math.Floor(math.Log10(x))))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// rowTicks labels timeline rows, the first at the top.
func rowTicks(names []string) plot.ConstantTicks {
	n := len(names)
	ticks := make(plot.ConstantTicks, n)
	for i, name := range names {
		ticks[i] = plot.Tick{Value: float64(n - 1 - i), Label: name}
	}
	return ticks
}

func rowY(i, n int) float64 { return float64(n - 1 - i) }

// chartSet holds the charts of one page; they are rendered together so that their data areas
// line up vertically.
type chartSet struct {
	d       *runData
	series  *incrSeries  // nil without increments
	faults  [][2]float64 // fault windows, seconds
	marks   []mark
	labelSm text.Style
}

// faultChart draws one row per fault target, each window a bar labelled with its kind.
func (cs *chartSet) faultChart(ws []checker.FaultWindow) (*plot.Plot, vg.Length) {
	d := cs.d
	var targets []string
	seen := map[string]bool{}
	for _, w := range ws {
		ts := w.Targets
		if len(ts) == 0 {
			ts = []string{"(all)"}
		}
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				targets = append(targets, t)
			}
		}
	}
	slices.SortStableFunc(targets, func(a, b string) int {
		ka, kb := targetKey(a), targetKey(b)
		if ka != kb {
			return strings.Compare(ka, kb)
		}
		return strings.Compare(a, b)
	})
	n := len(targets)
	row := map[string]int{}
	for i, t := range targets {
		row[t] = i
	}
	p := newTimePlot(0, d.span(), "")
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.Y.Tick.Marker = rowTicks(targets)
	p.Y.Tick.Length = 0
	p.Y.LineStyle.Width = 0
	p.Add(&spans{windows: cs.faults, clr: withAlpha(colFault, 0.15)})
	var items []bar
	for _, w := range ws {
		s := d.sec(w.Start)
		e := d.span()
		if w.End > 0 {
			e = d.sec(w.End)
		}
		fill := faultKindColours[w.Kind]
		if fill == nil {
			fill = rgb(0x99, 0x66, 0x00)
		}
		var hatchC color.Color
		label := w.Kind
		if w.Detail != "" {
			label += " " + w.Detail
		}
		switch w.Outcome {
		case "failed":
			fill, label = colFaultFailed, label+" (failed)"
		case "unknown":
			hatchC, label = colOutline, label+" (not healed?)"
		}
		ts := w.Targets
		if len(ts) == 0 {
			ts = []string{"(all)"}
		}
		for _, t := range ts {
			y := rowY(row[t], n)
			items = append(items, bar{x0: s, x1: e, y0: y - 0.36, y1: y + 0.36, fill: fill, hatch: hatchC, label: label})
		}
	}
	sty := cs.labelSm
	sty.Color = color.White
	p.Add(&markers{marks: cs.marks, font: cs.labelSm}) // under the bars: their labels stay readable
	p.Add(&bars{items: items, font: sty})
	p.X.Min, p.X.Max = 0, d.span() // data beyond the range must not stretch it
	return p, vg.Length(n)*rowHeight + axisHeight + 14
}

// targetKey orders fault targets: nodes, then clients, then anything else.
func targetKey(t string) string {
	switch {
	case strings.HasPrefix(t, "n"):
		return "0"
	case strings.HasPrefix(t, "p"):
		return "1"
	}
	return "2"
}

// latencyChart plots increment latencies on a log scale: per bucket the maximum and the median of
// the ok ones as lines, every fail (red cross) and info (amber triangle) as a point, up to
// maxScatter of them.
func (cs *chartSet) latencyChart() (*plot.Plot, latencyStats) {
	d, ss := cs.d, cs.series
	span := d.span()
	w := ss.latW
	st := latencyStats{bucket: w, fail: ss.fails.seen, info: ss.infos.seen}
	fails, infos := ss.fails.xys, ss.infos.xys
	st.failShown, st.infoShown = len(fails), len(infos)
	lo, hi := ss.latLo, ss.latHi
	// One segment per run of buckets with ok increments: a gap (nothing completed, e.g. while the
	// holder was paused) stays a gap instead of a misleading slope.
	var maxes, medians []plotter.XYs
	for k, n := range ss.latN {
		if n == 0 {
			continue
		}
		x := (float64(k) + 0.5) * w
		if k == 0 || ss.latN[k-1] == 0 {
			maxes, medians = append(maxes, nil), append(medians, nil)
		}
		maxes[len(maxes)-1] = append(maxes[len(maxes)-1], plotter.XY{X: x, Y: ss.latMax[k]})
		medians[len(medians)-1] = append(medians[len(medians)-1], plotter.XY{X: x, Y: ss.latMedian(k)})
	}
	p := newTimePlot(0, span, "latency, ms (log)")
	if math.IsInf(lo, 1) {
		lo, hi = 0.1, 1
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min = math.Pow10(int(math.Floor(math.Log10(lo * 0.9))))
	p.Y.Max = math.Pow10(int(math.Ceil(math.Log10(hi * 1.1))))
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min * 10
	}
	p.Add(&spans{windows: cs.faults, clr: colFault})
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	p.Add(&markers{marks: cs.marks, font: cs.labelSm})
	p.Add(&polyline{segs: medians, clr: colOKMedian, w: 1.2, bucket: w})
	p.Add(&polyline{segs: maxes, clr: colOK, w: 1.5, bucket: w})
	p.Add(&points{xys: infos, clr: colInfo, triangle: true})
	p.Add(&points{xys: fails, clr: colFail})
	p.X.Min, p.X.Max = 0, span // data beyond the range must not stretch it
	return p, st
}

type latencyStats struct {
	bucket                           float64
	fail, info, failShown, infoShown int
}

// thin keeps at most n points, evenly spread.
func thin(xys plotter.XYs, n int) plotter.XYs {
	if len(xys) <= n {
		return xys
	}
	out := make(plotter.XYs, 0, n)
	step := float64(len(xys)) / float64(n)
	for i := 0; i < n; i++ {
		out = append(out, xys[int(float64(i)*step)])
	}
	return out
}

func lineOf(xys plotter.XYs, clr color.Color, width vg.Length) *plotter.Line {
	l := &plotter.Line{XYs: xys}
	l.LineStyle = draw.LineStyle{Color: clr, Width: width}
	return l
}

// throughputChart plots ok increments per second, per bucket of a round width.
func (cs *chartSet) throughputChart() (*plot.Plot, float64) {
	d := cs.d
	span := d.span()
	w, counts := cs.series.tpW, cs.series.okCount
	xys := make(plotter.XYs, 0, 2*len(counts))
	top := 1.0
	for k, c := range counts {
		from, to := float64(k)*w, math.Min(float64(k+1)*w, span)
		if to-from < w/4 { // a sliver at the end: too short for a rate
			break
		}
		v := c / (to - from)
		top = math.Max(top, v)
		xys = append(xys, plotter.XY{X: from, Y: v}, plotter.XY{X: to, Y: v})
	}
	p := newTimePlot(0, span, "ok increments/s")
	p.Y.Min, p.Y.Max = 0, top*1.1
	p.Y.Tick.Marker = numTicks{}
	p.Add(&spans{windows: cs.faults, clr: colFault})
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	p.Add(&markers{marks: cs.marks, font: cs.labelSm})
	l := lineOf(xys, colOK, 1.2)
	l.FillColor = withAlpha(colOK, 0.18)
	p.Add(l)
	p.X.Min, p.X.Max = 0, span // data beyond the range must not stretch it
	return p, w
}

// counterChart plots the value each ok increment wrote (read+1) against the number of ok
// increments acknowledged so far (plus the initial value), and the final read: where the first
// falls below the second, updates were lost; a drop of the written value is a stale write.
func (cs *chartSet) counterChart() *plot.Plot {
	d := cs.d
	span := d.span()
	w := cs.series.ctrW
	var written, acked plotter.XYs
	top, bottom := float64(d.initial), float64(d.initial)
	var count int64
	for k, c := range cs.series.ctr {
		count += c.n
		lo, hi := c.lo, c.hi
		if !lo.set {
			continue
		}
		// Keep the extremes of the bucket in time order so a drop shows as a drop.
		a, b := lo, hi
		if a.t > b.t {
			a, b = b, a
		}
		written = append(written, plotter.XY{X: a.t, Y: float64(a.value + 1)})
		if a != b {
			written = append(written, plotter.XY{X: b.t, Y: float64(b.value + 1)})
		}
		acked = append(acked, plotter.XY{X: float64(k+1) * w, Y: float64(d.initial + count)})
		top = math.Max(top, math.Max(float64(d.initial+count), float64(hi.value+1)))
		bottom = math.Min(bottom, float64(lo.value+1))
	}
	p := newTimePlot(0, span, "counter")
	if d.final != nil {
		top = math.Max(top, float64(*d.final))
		bottom = math.Min(bottom, float64(*d.final))
	}
	p.Y.Min, p.Y.Max = bottom, math.Max(top*1.05, bottom+1)
	p.Y.Tick.Marker = numTicks{}
	p.Add(&spans{windows: cs.faults, clr: colFault})
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	p.Add(&markers{marks: cs.marks, font: cs.labelSm})
	if len(acked) > 0 {
		acked = append(plotter.XYs{{X: 0, Y: float64(d.initial)}}, acked...)
		p.Add(lineOf(acked, colAcknowledged, 2))
	}
	if len(written) > 0 {
		p.Add(lineOf(written, colWritten, 1.2))
	}
	if d.final != nil {
		txt := fmt.Sprintf("final read %d", *d.final)
		if d.lost > 0 {
			txt += fmt.Sprintf(": %d update(s) lost", d.lost)
		}
		p.Add(&callout{x: d.finalT, y: float64(*d.final), text: txt, font: cs.labelSm})
	}
	p.X.Min, p.X.Max = 0, span // data beyond the range must not stretch it
	return p
}

// ---------------------------------------------------------------------------------------------
// Rendering.

// chartJob is one plot to render at a height.
type chartJob struct {
	p   *plot.Plot
	h   vg.Length
	alt string
	out *template.HTML // receives the SVG
}

var svgOpen = regexp.MustCompile(`(?s)<svg\b[^>]*>`)
var svgViewBox = regexp.MustCompile(`viewBox="([^"]*)"`)

// renderAligned renders every job to an inline SVG, cropping their canvases so that the data
// areas of all of them start and end at the same x: the charts line up when stacked. A chart
// that cannot be drawn is left empty and its error returned; the others are drawn.
func renderAligned(jobs []chartJob) []error {
	var errs []error
	lefts := make([]vg.Length, len(jobs))
	rights := make([]vg.Length, len(jobs))
	ok := make([]bool, len(jobs))
	var maxL, maxR vg.Length
	for i, j := range jobs {
		err := catch(j.alt, func() {
			c := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: chartWidth, Y: j.h}}}
			dc := j.p.DataCanvas(c)
			lefts[i], rights[i] = dc.Min.X-c.Min.X, c.Max.X-dc.Max.X
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ok[i] = true
		maxL, maxR = max(maxL, lefts[i]), max(maxR, rights[i])
	}
	for i, j := range jobs {
		if !ok[i] {
			continue
		}
		s, err := renderSVG(j.p, j.h, maxL-lefts[i], maxR-rights[i], j.alt)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*j.out = template.HTML(s) // our own SVG: vgsvg escapes every text it writes
	}
	return errs
}

// catch runs f and turns a panic into an error: gonum panics on some degenerate input, and a
// chart that cannot be drawn must not cost the page.
func catch(what string, f func()) (err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("draw chart %q: %v", what, e)
		}
	}()
	f()
	return nil
}

// renderSVG draws p into an SVG of chartWidth × h points, with extra space on the left and right,
// and returns it ready to embed in HTML: no XML prolog, no namespace declarations (HTML's parser
// puts an <svg> in the SVG namespace by itself), scaled by CSS.
func renderSVG(p *plot.Plot, h, padL, padR vg.Length, alt string) (string, error) {
	c := vgsvg.NewWith(vgsvg.UseWH(chartWidth, h))
	if err := catch(alt, func() { p.Draw(draw.Crop(draw.New(c), padL, -padR, 0, 0)) }); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	s := buf.String()
	loc := svgOpen.FindStringIndex(s)
	if loc == nil {
		return "", fmt.Errorf("draw chart %q: no <svg> element in the output", alt)
	}
	vb := svgViewBox.FindStringSubmatch(s[loc[0]:loc[1]])
	if vb == nil {
		return "", fmt.Errorf("draw chart %q: no viewBox", alt)
	}
	open := fmt.Sprintf(`<svg class="chart" viewBox="%s" role="img" aria-label="%s">`, vb[1], htmlAttr(alt))
	return open + strings.TrimSpace(s[loc[1]:]), nil
}

func htmlAttr(s string) string {
	r := strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;")
	return r.Replace(s)
}
