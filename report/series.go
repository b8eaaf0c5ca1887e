package report

import (
	"math"

	"gonum.org/v1/plot/plotter"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/history"
)

// incrSeries is what the counter, latency and throughput charts draw, summed per time bucket in
// one pass over the history: its size follows the page's width, not the run's length.
type incrSeries struct {
	// Latency of ok increments, per bucket of latW seconds: the slowest, and a histogram on a
	// log scale for the median.
	latW    float64
	latMax  []float64
	latHist []uint32 // latBins per bucket
	latN    []uint32
	// latLo and latHi are the fastest and the slowest of all increments, fail and info included.
	latLo, latHi float64
	// Every fail and info increment as a point, thinned evenly to at most maxScatter/2 each.
	fails, infos thinned
	// invoked are the increments invoked and not completed yet, by id: when.
	invoked map[string]int64
	d       *runData
	// Ok increments per bucket of tpW seconds.
	tpW     float64
	okCount []float64
	// The counter: per bucket of ctrW seconds, the ok increments and the lowest and highest value
	// read.
	ctrW float64
	ctr  []counterBucket
}

// The latency histogram: latBinsPerDecade bins per factor of ten from latMinMs up, so a median is
// drawn within 2.3% of its value (invisible on the chart's log scale).
const (
	latMinMs         = 0.001
	latBinsPerDecade = 100
	latBins          = 10 * latBinsPerDecade // up to 10^7 ms, nearly three hours
)

func latBin(ms float64) int {
	return min(max(int(math.Log10(ms/latMinMs)*latBinsPerDecade), 0), latBins-1)
}

// latBinValue is the middle of bin b on the log scale.
func latBinValue(b int) float64 { return latMinMs * math.Pow(10, (float64(b)+0.5)/latBinsPerDecade) }

type counterBucket struct {
	n      int64
	lo, hi valueAt
}

// valueAt is an ok increment's value read, and when it completed (seconds).
type valueAt struct {
	t     float64
	value int64
	set   bool
}

// thinned keeps every step-th of a known number of points, as evenly as thin does.
type thinned struct {
	xys        plotter.XYs
	total, max int
	seen       int
}

func (th *thinned) add(xy plotter.XY) {
	i := th.seen
	th.seen++
	if th.total <= th.max {
		th.xys = append(th.xys, xy)
		return
	}
	// Keep point i when it is the first at or after the next of max evenly spaced positions.
	step := float64(th.total) / float64(th.max)
	if k := len(th.xys); k < th.max && i == int(float64(k)*step) {
		th.xys = append(th.xys, xy)
	}
}

// newIncrSeries makes the empty series over the run's span, which gatherRun found; add fills
// them record by record, in any order of the records of different processes.
func newIncrSeries(d *runData) *incrSeries {
	span := d.span()
	s := &incrSeries{d: d, latLo: math.Inf(1), invoked: map[string]int64{}}
	s.latW = math.Max(0.1, span/1000)
	nLat := int(span/s.latW) + 1
	s.latMax, s.latN = make([]float64, nLat), make([]uint32, nLat)
	s.latHist = make([]uint32, nLat*latBins)
	s.fails = thinned{total: d.nFail, max: maxScatter / 2}
	s.infos = thinned{total: d.nInfo, max: maxScatter / 2}
	s.tpW = math.Max(0.1, niceStep(span/200))
	s.okCount = make([]float64, max(int(math.Ceil(span/s.tpW)), 1))
	s.ctrW = span / 1100
	s.ctr = make([]counterBucket, int(span/s.ctrW)+1)
	return s
}

// add takes one record of the history; only increments count.
func (s *incrSeries) add(op *history.Op) {
	if op.F != history.Incr {
		return
	}
	if op.Type == history.Invoke {
		s.invoked[op.ID] = op.Time
		return
	}
	start, ok := s.invoked[op.ID]
	if !ok || !op.Type.IsCompletion() {
		return
	}
	delete(s.invoked, op.ID)
	bucket := func(t, w float64, n int) int { return min(max(int(t/w), 0), n-1) }
	t := s.d.sec(op.Time)
	lat := math.Max(float64(op.Time-start)/1e6, latMinMs)
	s.latLo, s.latHi = math.Min(s.latLo, lat), math.Max(s.latHi, lat)
	switch op.Type {
	case history.OK:
		k := bucket(t, s.latW, len(s.latN))
		s.latMax[k] = math.Max(s.latMax[k], lat)
		s.latN[k]++
		s.latHist[k*latBins+latBin(lat)]++
		s.okCount[bucket(t, s.tpW, len(s.okCount))]++
		c := &s.ctr[bucket(t, s.ctrW, len(s.ctr))]
		c.n++
		if op.Value != nil {
			v := valueAt{t: t, value: *op.Value, set: true}
			// Ties go to the earlier, as a walk in time order finds them.
			if !c.lo.set || v.value < c.lo.value || v.value == c.lo.value && v.t < c.lo.t {
				c.lo = v
			}
			if !c.hi.set || v.value > c.hi.value || v.value == c.hi.value && v.t < c.hi.t {
				c.hi = v
			}
		}
	case history.Fail:
		s.fails.add(plotter.XY{X: t, Y: lat})
	default:
		s.infos.add(plotter.XY{X: t, Y: lat})
	}
}

// alongside is src whose records also go to see as they are read: one pass over the file for
// two readers.
type alongside struct {
	src checker.Source
	see func(*history.Op)
}

func (a alongside) Scan(f func(*history.Op) error) error {
	return a.src.Scan(func(op *history.Op) error {
		a.see(op)
		return f(op)
	})
}

// latMedian is bucket k's median ok latency, to a histogram bin.
func (s *incrSeries) latMedian(k int) float64 {
	rank := s.latN[k] / 2 // the middle one, as a sorted list's [n/2]
	var seen uint32
	hist := s.latHist[k*latBins : (k+1)*latBins]
	for b, c := range hist {
		if seen += c; seen > rank {
			return math.Min(latBinValue(b), s.latMax[k])
		}
	}
	return s.latMax[k]
}
