package report

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/history"

	"github.com/locktest/locktest/internal/prose"
)

// PageFile is the run page WriteRunPage writes into a run directory.
const PageFile = "index.html"

// WriteRunPage writes dir/index.html: the run's report page for people. It opens offline (from a
// CI artifact or file://): no scripts, styles or fonts from elsewhere, the charts inline SVG.
//
// It shows the verdict first, then the anomalies with the first example of each, the lock-holder
// timeline (one row per process; overlapping holds red, the part past the lease's deadline
// hatched, fault windows shaded, example times marked), close-ups around the examples and the
// first overlap, the fault timeline, the counter, latency and throughput over time, and links to
// the run's files. src is the run's history (it may be nil: the charts that need it are left out);
// times are drawn in seconds since its first record.
//
// The history is read record by record, twice (three times when holders overlapped: once more to
// find the first overlap), and every chart is summed per pixel or per time bucket as it is read:
// memory follows the page's width and the run's concurrency, not the run's length, and a history
// of a million records gives a page of a few hundred kilobytes in a few seconds.
func WriteRunPage(dir string, r *Results, src checker.Source) error {
	if r == nil || r.Result == nil {
		return fmt.Errorf("run page: no results")
	}
	pg, err := buildRunPage(dir, r, src)
	if err != nil {
		return fmt.Errorf("run page: %w", err)
	}
	var buf bytes.Buffer
	if err := runPageTmpl.Execute(&buf, pg); err != nil {
		return fmt.Errorf("run page: %w", err)
	}
	path := filepath.Join(dir, PageFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("run page: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("run page: %w", err)
	}
	return nil
}

// runPage is what the template shows.
type runPage struct {
	Title        string
	VerdictClass string
	VerdictWord  string
	VerdictWhy   string
	Headline     []string
	FirstAnomaly string
	Scenario     *scenarioView
	Notes        []string
	Warnings     []string
	MoreWarnings int
	Params       []keyValue
	Anomalies    []anomalyRow
	Examples     []exampleView
	VisLink      string
	Overview     template.HTML
	OverviewNote string
	Zooms        []zoomView
	Faults       template.HTML
	FaultRows    []faultRow
	Counter      template.HTML
	Latency      template.HTML
	LatencyNote  string
	Throughput   template.HTML
	ThroughNote  string
	NoHistory    bool
	ChartErrors  []string
	Ops          []keyValue
	Files        []fileLink
}

type keyValue struct{ Key, Value string }

type scenarioView struct {
	Name, Text string
	Met        bool
}

type anomalyRow struct {
	Name, Key, Means string
	Count            int64
	Bad              bool
}

type exampleView struct {
	N                   int
	Kind, At, Text, Who string
	Zoom                string // anchor of a close-up showing it
}

type zoomView struct {
	ID, Title, Caption string
	SVG                template.HTML
}

type faultRow struct{ ID, Kind, Targets, Detail, Window, Outcome string }

type fileLink struct {
	Name, Href, What string
	Missing          bool
}

var anomalyMeaning = []struct{ key, name, means string }{
	{"lost_updates", "lost update(s)", "acknowledged increments the final counter does not show"},
	{"overlaps", "overlap(s) of holders", "pairs of processes that believed they held the lock at the same time"},
	{"overlaps_within_validity", "…both inside their lease", "overlaps in which the lock service handed the lock out twice"},
	{"duplicate_reads", "duplicate read(s)", "applied increments that read a value another had already read"},
	{"stale_writes", "stale write(s)", "writes that moved the counter back or left it where it was"},
	{"nonlinearizable", "non-linearizable chunk(s)", "pieces of the history Porcupine could not order as a counter"},
	{"log_mismatch", "write-log disagreement(s)", "places where the storage's write log contradicts what the clients recorded"},
}

func buildRunPage(dir string, r *Results, src checker.Source) (*runPage, error) {
	d, meta, records, err := gatherRun(r, src)
	if err != nil {
		return nil, err
	}
	pg := &runPage{NoHistory: records == 0}
	pg.VerdictWord, pg.VerdictClass = strings.ToUpper(r.Valid.String()), r.Valid.String()
	if line := verdictLine(r); strings.HasPrefix(line, "UNKNOWN (") {
		pg.VerdictWhy = strings.TrimSuffix(strings.TrimPrefix(line, "UNKNOWN ("), ")")
	}
	pg.Title = fmt.Sprintf("%s — %s %s", pg.VerdictWord, r.Backend, r.RunID)

	a := r.Anomalies
	for _, m := range anomalyMeaning {
		n, _ := a.Count(m.key)
		pg.Anomalies = append(pg.Anomalies, anomalyRow{Name: m.name, Key: m.key, Means: m.means, Count: n, Bad: n > 0})
		if n > 0 && m.key != "overlaps_within_validity" {
			pg.Headline = append(pg.Headline, fmt.Sprintf("%d %s", n, m.name))
		}
	}
	if a.Unresolved > 0 {
		pg.Anomalies = append(pg.Anomalies, anomalyRow{Name: "unresolved increments", Key: "unresolved", Count: a.Unresolved,
			Means: "info increments whose effect is unknown (no write log); not an anomaly by itself"})
	}
	if a.Overlaps > 0 && a.OverlapsWithinValidity > 0 {
		pg.Headline = append(pg.Headline, fmt.Sprintf("%d overlap(s) with both holders inside their lease", a.OverlapsWithinValidity))
	}
	if r.Valid != checker.Invalid && a.Overlaps > 0 && a.LostUpdates+a.StaleWrites+a.DuplicateReads+a.Nonlinearizable == 0 {
		// With fencing, overlaps do not decide the verdict: say so rather than list them as a fault.
		pg.Headline = []string{"data intact", fmt.Sprintf("%d overlap(s) of holders, which the storage's fencing-token checks made harmless", a.Overlaps)}
	}
	if r.FirstAnomaly > 0 {
		what := "first anomaly"
		if r.Valid != checker.Invalid && a.LostUpdates+a.StaleWrites+a.DuplicateReads+a.Nonlinearizable == 0 {
			what = "first overlap"
		}
		pg.FirstAnomaly = fmt.Sprintf("%s %.3fs into the run", what, r.FirstAnomaly)
	}
	pg.Scenario = scenarioOf(r)
	pg.Notes = notesOf(r, d)
	pg.Warnings = r.Warnings
	if len(pg.Warnings) > 20 {
		pg.MoreWarnings, pg.Warnings = len(pg.Warnings)-20, pg.Warnings[:20]
	}
	pg.Params = paramsOf(r, meta)
	pg.Ops = opsOf(r)
	pg.VisLink = r.Files.Visualization
	pg.Files = filesOf(dir, r)

	cs := &chartSet{d: d, labelSm: textStyle(10)}
	if d.nOK+d.nFail+d.nInfo > 0 {
		// Filled by the pass that draws the holds, or by a pass of its own when none is drawn.
		cs.series = newIncrSeries(d)
	}
	for _, f := range r.Faults {
		if f.Outcome == checker.FaultFailed {
			continue
		}
		e := d.span()
		if f.End > 0 {
			e = d.sec(f.End)
		}
		cs.faults = append(cs.faults, [2]float64{d.sec(f.Start), e})
	}
	for i, ex := range r.Examples {
		t := d.sec(ex.Time)
		cs.marks = append(cs.marks, mark{t: t, label: fmt.Sprint(i + 1)})
		ev := exampleView{N: i + 1, Kind: ex.Kind, At: fmt.Sprintf("%.3fs", t), Text: ex.Text}
		if len(ex.Processes) > 0 {
			ps := make([]string, len(ex.Processes))
			for k, p := range ex.Processes {
				ps[k] = fmt.Sprintf("p%d", p)
			}
			ev.Who = strings.Join(ps, ", ")
		}
		pg.Examples = append(pg.Examples, ev)
	}
	for _, f := range r.Faults {
		end := "not healed"
		if f.End > 0 {
			end = fmt.Sprintf("%.3fs", d.sec(f.End))
		}
		pg.FaultRows = append(pg.FaultRows, faultRow{ID: f.ID, Kind: f.Kind, Targets: strings.Join(f.Targets, ", "), Detail: f.Detail,
			Window: fmt.Sprintf("%.3fs – %s", d.sec(f.Start), end), Outcome: string(f.Outcome) + errSuffix(f.Error)})
	}

	var jobs []chartJob
	drawHolds := len(d.procs) > 0 && records > 0
	if cs.series != nil && !drawHolds {
		if err := src.Scan(func(op *history.Op) error { cs.series.add(op); return nil }); err != nil {
			return nil, err
		}
	}
	if drawHolds {
		zs, err := cs.timelines(src, r)
		if err != nil {
			return nil, err
		}
		over := zs[0]
		p, h, st := over.tl.plot(cs)
		jobs = append(jobs, chartJob{p, h, "lock holders over the whole run", &pg.Overview})
		if st.total > st.drawn {
			pg.OverviewNote = fmt.Sprintf("%d holds: %d wide enough to draw one by one, the other %d summed per pixel (darker = held longer; red = some of them overlapped another process's hold).",
				st.total, st.drawn, st.total-st.drawn)
		}
		zs = zs[1:]
		pg.Zooms = make([]zoomView, len(zs))
		for zi, z := range zs {
			p, h, st := z.tl.plot(cs)
			pg.Zooms[zi] = z.view
			pg.Zooms[zi].Caption = strings.TrimSpace(fmt.Sprintf("%s %.3fs to %.3fs: %d holds, %d drawn one by one.", z.note, z.from, z.to, st.total, st.drawn))
			jobs = append(jobs, chartJob{p, h, z.view.Title, &pg.Zooms[zi].SVG})
			for k := range pg.Examples {
				t := d.sec(r.Examples[k].Time)
				if pg.Examples[k].Zoom == "" && t >= z.from && t <= z.to {
					pg.Examples[k].Zoom = z.view.ID
				}
			}
		}
	}
	if len(r.Faults) > 0 {
		p, h := cs.faultChart(r.Faults)
		jobs = append(jobs, chartJob{p, h, "fault windows by target", &pg.Faults})
	}
	if cs.series != nil {
		jobs = append(jobs, chartJob{cs.counterChart(), plotHeight, "counter value written and increments acknowledged", &pg.Counter})
		lp, ls := cs.latencyChart()
		jobs = append(jobs, chartJob{lp, plotHeight, "increment latency", &pg.Latency})
		pg.LatencyNote = fmt.Sprintf("Ok increments: the slowest and the median per %s bucket.", fmtSec(ls.bucket))
		if ls.fail+ls.info > 0 {
			pg.LatencyNote += fmt.Sprintf(" Every fail (%d) and info (%d) as a point", ls.fail, ls.info)
			if ls.failShown+ls.infoShown < ls.fail+ls.info {
				pg.LatencyNote += fmt.Sprintf(", %d of them shown (evenly thinned)", ls.failShown+ls.infoShown)
			}
			pg.LatencyNote += "."
		}
		tp, w := cs.throughputChart()
		jobs = append(jobs, chartJob{tp, plotHeight * 0.8, "ok increments per second", &pg.Throughput})
		pg.ThroughNote = fmt.Sprintf("Per %s bucket.", fmtSec(w))
	}
	for _, err := range renderAligned(jobs) {
		pg.ChartErrors = append(pg.ChartErrors, err.Error())
	}
	return pg, nil
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

func fmtSec(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.0f ms", s*1000)
	}
	return fmt.Sprintf("%g s", s)
}

// zoom is a close-up of the lock-holder timeline.
type zoom struct {
	from, to float64
	note     string
	view     zoomView
	tl       *timeline
}

// timelines draws the lock-holder timelines from the holds in src: the whole run first, then the
// close-ups. Every hold is read once to draw (the close-ups' windows are known before, except the
// first overlap's, drawn from the few holds kept around it), and once before that to find the
// first overlap when the run had one.
func (cs *chartSet) timelines(src checker.Source, r *Results) ([]zoom, error) {
	d := cs.d
	var first *firstOverlap
	if r.Anomalies.Overlaps > 0 {
		var err error
		if first, err = findFirstOverlap(src, len(d.procs)); err != nil {
			return nil, err
		}
	}
	zs := append([]zoom{{from: 0, to: d.span()}}, exampleZooms(d, first, r.Examples)...)
	for i := range zs {
		zs[i].tl = cs.newTimeline(zs[i].from, zs[i].to)
	}
	var near *nearHolds
	if first != nil {
		near = newNearHolds(first.at)
	}
	// The increments' series are summed in the same pass: one read of the file for both.
	drawSrc := src
	if cs.series != nil {
		drawSrc = alongside{src, cs.series.add}
	}
	err := checker.ScanHolds(drawSrc, func(h *checker.Hold, overlapping bool) {
		for _, z := range zs {
			z.tl.add(d, h, overlapping)
		}
		if near != nil {
			near.add(h, overlapping)
		}
	})
	if err != nil {
		return nil, err
	}
	if first != nil {
		if z := overlapZoom(d, first, near); z != nil {
			z.tl = cs.newTimeline(z.from, z.to)
			for i := range near.holds {
				z.tl.add(d, &near.holds[i].h, near.holds[i].overlapping)
			}
			zs = append(zs, *z)
		}
	}
	return zs, nil
}

// exampleZooms picks the close-ups around the anomaly examples: ±zoomContext seconds around each
// group of them, widened to show the first overlap's holds whole.
func exampleZooms(d *runData, first *firstOverlap, examples []checker.Example) []zoom {
	span := d.span()
	var out []zoom
	var times []float64
	for _, ex := range examples {
		// A lost-update count is dated at the final read, and an unresolved increment is not an
		// anomaly: a close-up of either shows nothing.
		// The same goes for a non-linearizable chunk, dated at its start.
		if ex.Kind == "lost_updates" || ex.Kind == "unresolved" || ex.Kind == "nonlinearizable" {
			continue
		}
		times = append(times, d.sec(ex.Time))
	}
	sort.Float64s(times)
	var wins [][2]float64
	for i := 0; i < len(times) && len(wins) < maxZooms; {
		j := i + 1
		for j < len(times) && times[j]-times[j-1] <= 2*zoomContext {
			j++
		}
		lo, hi := times[i]-zoomContext, times[j-1]+zoomContext
		if first != nil {
			fs := d.sec(first.at)
			if fs >= lo && fs <= hi {
				for _, h := range first.involved {
					lo, hi = math.Min(lo, d.sec(h.Start)-0.2), math.Max(hi, d.sec(h.End)+0.2)
				}
			}
		}
		lo = math.Max(lo, 0)
		hi = math.Min(hi, math.Min(span, lo+maxZoomSpan))
		i = j
		if n := len(wins); n > 0 && lo <= wins[n-1][1] { // overlaps the previous one: one window
			wins[n-1][1] = math.Min(math.Max(hi, wins[n-1][1]), wins[n-1][0]+maxZoomSpan)
			continue
		}
		wins = append(wins, [2]float64{lo, hi})
	}
	for _, w := range wins {
		if w[1]-w[0] >= 0.6*span { // the overview shows it as well
			continue
		}
		out = append(out, zoom{from: w[0], to: w[1], view: zoomView{
			ID:    fmt.Sprintf("zoom-%d", len(out)+1),
			Title: fmt.Sprintf("Around the anomaly examples, %.1fs to %.1fs", w[0], w[1]),
		}})
	}
	return out
}

// overlapZoom is the close-up of the first overlap, narrow enough to show individual holds: as
// much time after the overlap began as twenty holds took (at most closeAfter), as much before
// it, widened to the earlier holder's deadline when that is near. nil when it would be empty.
func overlapZoom(d *runData, first *firstOverlap, near *nearHolds) *zoom {
	t := first.at
	var starts []int64
	for _, k := range near.holds {
		if k.h.Start >= t {
			starts = append(starts, k.h.Start)
		}
	}
	slices.Sort(starts)
	after := closeAfter // the twentieth is later than that
	switch {
	case len(starts) > 20:
		after = starts[20] - t
	case near.later == 0 && len(starts) > 0:
		after = starts[len(starts)-1] - t // the run's last hold
	case near.later == 0:
		after = 0 // no hold began after it
	}
	after = min(max(after, 5e6), closeAfter)
	lo, hi := t-after, t+after
	var who []string
	for _, h := range first.involved {
		who = append(who, fmt.Sprintf("p%d", h.Process))
		if h.Deadline > 0 && h.Deadline < t && t-h.Deadline < 1e9 {
			lo = min(lo, h.Deadline-(t-h.Deadline)/4-1e6)
		}
	}
	pad := (hi - lo) / 20
	from, to := math.Max(d.sec(lo-pad), 0), math.Min(d.sec(hi+pad), d.span())
	if to <= from {
		return nil
	}
	return &zoom{from: from, to: to,
		note: fmt.Sprintf("From %.3fs %s believed they held the lock at the same time.", d.sec(t), prose.And(uniq(who), "two processes")),
		view: zoomView{
			ID:    "zoom-overlap",
			Title: fmt.Sprintf("Close-up of the first overlap, at %.3fs", d.sec(t)),
		}}
}

func uniq(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func scenarioOf(r *Results) *scenarioView {
	sc := r.Scenario
	if sc == nil {
		return nil
	}
	v := &scenarioView{Name: sc.Name, Met: sc.Met}
	switch {
	case sc.Error != "":
		v.Text = "did not play out: " + sc.Error
	case sc.Met:
		v.Text = fmt.Sprintf("expected %s, got %s: expectation met", orAny(sc.Expect), r.Valid)
	case len(sc.Missing) > 0:
		v.Text = fmt.Sprintf("EXPECTATION NOT MET: %s, but the story did not happen: no %s", r.Valid, strings.Join(sc.Missing, ", no "))
	default:
		v.Text = fmt.Sprintf("EXPECTATION NOT MET: expected %s, got %s", orAny(sc.Expect), r.Valid)
	}
	if sc.File != "" {
		v.Text += " (" + sc.File + ")"
	}
	return v
}

func orAny(s string) string {
	if s == "" {
		return "any verdict"
	}
	return s
}

func notesOf(r *Results, d *runData) []string {
	var notes []string
	if r.Interrupted {
		notes = append(notes, "Interrupted: the run was stopped early; the verdict covers the part that ran.")
	}
	if r.Incomplete {
		notes = append(notes, "Incomplete: the history lacks its end (the harness died, or there is no final read); the verdict covers the recorded prefix.")
	}
	if r.Killed > 0 {
		notes = append(notes, fmt.Sprintf("%d worker(s) did not stop in time and were killed.", r.Killed))
	}
	if d.pending > 0 {
		notes = append(notes, fmt.Sprintf("%d increment(s) were invoked and never completed (their process stopped); they are not in the latency chart.", d.pending))
	}
	if r.Analyzed != "" {
		notes = append(notes, "Re-checked by locktest analyze at "+r.Analyzed+".")
	}
	return notes
}

func paramsOf(r *Results, m *history.Meta) []keyValue {
	p := r.Config
	orNone := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	kinds := make([]string, len(p.Faults))
	for i, k := range p.Faults {
		kinds[i] = string(k)
	}
	faults := orNone(strings.Join(kinds, ","))
	if len(p.Faults) > 0 && p.FaultInterval > 0 {
		faults += ", each " + p.FaultInterval.String()
	}
	switch {
	case r.Scenario != nil:
		faults = "scripted by the scenario"
	case len(p.Faults) == 0 && len(r.Faults) > 0:
		faults = fmt.Sprintf("%d window(s), below", len(r.Faults))
	}
	kv := []keyValue{
		{"backend", r.Backend},
		{"clients", fmt.Sprint(p.Clients)},
		{"nodes", fmt.Sprint(r.Nodes)},
		{"ttl", p.TTL.String()},
		{"time limit", p.TimeLimit.String()},
		{"fencing", orNone(string(p.Fencing))},
		{"persistence", orNone(string(p.Persistence))},
		{"faults", faults},
		{"seed", fmt.Sprint(r.Seed)},
		{"run id", r.RunID},
	}
	if m != nil && m.Started != "" {
		kv = append(kv, keyValue{"started", m.Started})
	}
	if m != nil && m.Version != "" {
		kv = append(kv, keyValue{"version", m.Version})
	}
	if p.Cluster != "" {
		kv = append(kv, keyValue{"cluster", p.Cluster})
	}
	if p.AcquireTimeout > 0 || p.StorageTimeout > 0 {
		kv = append(kv, keyValue{"timeouts", fmt.Sprintf("acquire %v, storage %v", p.AcquireTimeout, p.StorageTimeout)})
	}
	if p.Think > 0 {
		kv = append(kv, keyValue{"think", p.Think.String()})
	}
	return kv
}

func opsOf(r *Results) []keyValue {
	o := r.Ops
	final := "none"
	if r.FinalValue != nil {
		final = fmt.Sprint(*r.FinalValue)
	}
	ops := []keyValue{
		{"increments", fmt.Sprintf("%d ok, %d fail, %d info (%d applied, %d not applied, %d unresolved)",
			o.OK, o.Fail, o.Info, o.InfoApplied, o.InfoNotApplied, o.InfoUnresolved)},
		{"acquisitions", fmt.Sprintf("%d ok, %d failed, %d unknown", o.AcquireOK, o.AcquireFail, o.AcquireInfo)},
		{"releases", fmt.Sprintf("%d ok, %d too late, %d unknown", o.ReleaseOK, o.ReleaseFail, o.ReleaseInfo)},
	}
	if o.Skipped > 0 {
		ops = append(ops, keyValue{"writes skipped", fmt.Sprintf("%d increment(s) read and then held back by their client (lease check or refused extension)", o.Skipped)})
	}
	if o.ExtendOK+o.ExtendFail+o.ExtendInfo > 0 {
		ops = append(ops, keyValue{"extensions", fmt.Sprintf("%d ok, %d refused, %d unknown", o.ExtendOK, o.ExtendFail, o.ExtendInfo)})
	}
	ops = append(ops, []keyValue{
		{"counter", fmt.Sprintf("initial %d, final %s, acknowledged increments %d", r.Initial, final, r.Acknowledged)},
		{"throughput", fmt.Sprintf("%.0f acknowledged increments/s", r.Throughput)},
		{"liveness", LivenessText(r.Liveness)},
		{"linearizability", fmt.Sprintf("%s, %d chunk(s), largest %d, %s%s", r.Linearizability.Result, r.Linearizability.Chunks,
			r.Linearizability.LargestChunk, r.Linearizability.CheckDuration.Round(1e6), givenUpText(r.Linearizability.GivenUpOps))},
		{"timings", fmt.Sprintf("image %.1fs, cluster start %.1fs, workload %.1fs, stop %.1fs, check %.1fs",
			r.Timings.ImageSeconds, r.Timings.ClusterStartSeconds, r.Timings.WorkloadSeconds, r.Timings.ClusterStopSeconds, r.Timings.CheckSeconds)},
	}...)
	if c := r.Coordinator; c != nil {
		ops = append(ops, keyValue{"coordinator memory", fmt.Sprintf("peak RSS %.0f MB through the workload, %.0f MB through the check", c.WorkloadPeakRSSMB, c.PeakRSSMB)})
	}
	return ops
}

// givenUpText says how many operations were left unchecked for want of a quiescent point.
func givenUpText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d operations overlapping all along were not checked", n)
}

func filesOf(dir string, r *Results) []fileLink {
	name := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	fl := []fileLink{
		{Name: ResultsFile, What: "verdict, counts, examples, timings"},
		historyLink(name(r.Files.History, HistoryFile)),
	}
	if r.Files.Visualization != "" {
		fl = append(fl, fileLink{Name: r.Files.Visualization, What: "Porcupine's view of the history, lock holds and faults annotated"})
	} else {
		fl = append(fl, fileLink{Name: VisualizationFile, What: "Porcupine's view (not written for this run)", Missing: true})
	}
	fl = append(fl, fileLink{Name: name(r.Files.WorkerLog, WorkerLogFile), What: "the client processes' stderr"})
	if _, err := os.Stat(filepath.Join(dir, ScheduleFile)); err == nil {
		fl = append(fl, fileLink{Name: ScheduleFile, What: "the random fault schedule"})
	}
	if _, err := os.Stat(filepath.Join(dir, ExploredFile)); err == nil {
		fl = append(fl, fileLink{Name: ExploredFile, What: "the rounds the exploration profile drew, as a scenario file (replay with --scenario)"})
	}
	for i := range fl {
		if !fl[i].Missing {
			fl[i].Href = fl[i].Name
		}
	}
	return fl
}

// historyLink describes the history file; the binary one says how to read it as text.
func historyLink(file string) fileLink {
	if file == LegacyHistoryFile {
		return fileLink{Name: file, What: "every record of the run, as JSON lines"}
	}
	return fileLink{Name: file, What: "every record of the run (binary; locktest export --jsonl RUN_DIR prints it as JSON lines)"}
}

var runPageTmpl = template.Must(template.New("run").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + pageCSS + `</style>
</head>
<body>
<header id="verdict" class="verdict {{.VerdictClass}}">
<span class="word">{{.VerdictWord}}</span>
<span class="why">{{if .Headline}}{{range $i, $h := .Headline}}{{if $i}} · {{end}}{{$h}}{{end}}{{else if .VerdictWhy}}{{.VerdictWhy}}{{else if eq .VerdictClass "valid"}}no anomaly found{{end}}</span>
{{- if .FirstAnomaly}}<span class="when">{{.FirstAnomaly}}</span>{{end}}
</header>
<main>
{{- with .Scenario}}
<p class="scenario {{if .Met}}met{{else}}unmet{{end}}">Scenario <b>{{.Name}}</b>: {{.Text}}</p>
{{- end}}
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
<dl class="params">
{{- range .Params}}<div><dt>{{.Key}}</dt><dd>{{.Value}}</dd></div>{{end}}
</dl>

<section id="anomalies">
<h2>Anomalies{{if .Examples}}: the first example of each{{end}}</h2>
{{- if .Examples}}
<ol class="examples">
{{- range .Examples}}
<li id="ex-{{.N}}"><span class="badge">{{.N}}</span> <b>{{.Kind}}</b> at {{.At}}{{if .Who}} ({{.Who}}){{end}}: {{.Text}}
<span class="links">{{if $.VisLink}}<a href="{{$.VisLink}}">Porcupine view</a>{{end}}{{if .Zoom}} · <a href="#{{.Zoom}}">close-up</a>{{end}}</span></li>
{{- end}}
</ol>
{{- else}}
<p>No anomaly.</p>
{{- end}}
</section>

<section id="timeline">
<h2>Lock holders</h2>
{{- if .Overview}}
<p class="legend"><i class="sw held"></i>held <i class="sw late"></i>held past the lease's deadline <i class="sw overlap"></i>overlaps another process's hold <i class="sw overlap late"></i>…past the deadline <i class="sw occ"></i>short holds, summed per pixel <i class="sw fault"></i>fault window <i class="sw mark">n</i>anomaly example n <i class="sw open"></i>no release seen</p>
<figure>{{.Overview}}</figure>
{{- if .OverviewNote}}<p class="caption">{{.OverviewNote}}</p>{{end}}
{{- range .Zooms}}
<h3 id="{{.ID}}">{{.Title}}</h3>
<figure>{{.SVG}}</figure>
<p class="caption">{{.Caption}}</p>
{{- end}}
{{- else}}
<p>No lock was held{{if .NoHistory}} (no history to draw from){{end}}.</p>
{{- end}}
</section>

<section id="faults">
<h2>Faults</h2>
{{- if .Faults}}
<figure>{{.Faults}}</figure>
<table class="faults"><tr><th>id</th><th>kind</th><th>targets</th><th>detail</th><th>window</th><th>outcome</th></tr>
{{- range .FaultRows}}
<tr><td>{{.ID}}</td><td>{{.Kind}}</td><td>{{.Targets}}</td><td>{{.Detail}}</td><td>{{.Window}}</td><td>{{.Outcome}}</td></tr>
{{- end}}
</table>
{{- else}}
<p>No faults were injected.</p>
{{- end}}
</section>

{{- if .Counter}}
<section id="counter">
<h2>Counter</h2>
<p class="legend"><i class="sw line acked"></i>increments acknowledged so far (initial + ok) <i class="sw line written"></i>value written by each ok increment <i class="sw final"></i>final read <i class="sw fault"></i>fault window</p>
<figure>{{.Counter}}</figure>
<p class="caption">Where the written value falls below the acknowledged count, updates were lost; where it drops, a stale write moved the counter back.</p>
</section>
<section id="latency">
<h2>Increment latency</h2>
<p class="legend"><i class="sw line written"></i>ok, slowest per bucket <i class="sw line median"></i>ok, median per bucket <i class="sw failx">×</i>fail <i class="sw infot">▲</i>info (unknown) <i class="sw fault"></i>fault window</p>
<figure>{{.Latency}}</figure>
<p class="caption">{{.LatencyNote}} Latency is the critical section: storage read sent to write acknowledged.</p>
</section>
<section id="throughput">
<h2>Throughput</h2>
<figure>{{.Throughput}}</figure>
<p class="caption">Ok increments per second. {{.ThroughNote}}</p>
</section>
{{- end}}
{{- range .ChartErrors}}
<p class="note">A chart could not be drawn: {{.}}</p>
{{- end}}

<section id="details">
<h2>Counts</h2>
<table class="counts">
{{- range .Anomalies}}
<tr class="{{if .Bad}}bad{{end}}"><td class="n">{{.Count}}</td><td>{{.Name}}</td><td class="means">{{.Means}}</td></tr>
{{- end}}
</table>
<dl class="ops">
{{- range .Ops}}<div><dt>{{.Key}}</dt><dd>{{.Value}}</dd></div>{{end}}
</dl>
{{- if .Warnings}}
<h3>Warnings</h3>
<ul class="warnings">{{range .Warnings}}<li>{{.}}</li>{{end}}{{if .MoreWarnings}}<li>… and {{.MoreWarnings}} more in results.json</li>{{end}}</ul>
{{- end}}
<h2>Files</h2>
<ul class="files">
{{- range .Files}}
<li>{{if .Href}}<a href="{{.Href}}">{{.Name}}</a>{{else}}<span class="missing">{{.Name}}</span>{{end}} — {{.What}}</li>
{{- end}}
</ul>
</section>
</main>
</body>
</html>
`))

// pageCSS is shared by the run page and the matrix page (compare copies nothing: it has its own).
const pageCSS = `
:root { --valid:#1e7b34; --invalid:#c62828; --unknown:#b26a00; --ink:#1d1d1f; --muted:#5f6368; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 "Liberation Sans", "DejaVu Sans", Arial, Helvetica, sans-serif; color: var(--ink); background:#fafafa; }
main { max-width: 1240px; margin: 0 auto; padding: 8px 20px 40px; }
.verdict { padding: 18px 24px; color: #fff; display:flex; flex-wrap:wrap; align-items: baseline; gap: 6px 18px; }
.verdict .word { font-size: 40px; font-weight: bold; letter-spacing: 1px; }
.verdict .why { font-size: 19px; }
.verdict .when { font-size: 15px; opacity: .9; }
.verdict.valid { background: var(--valid); }
.verdict.invalid { background: var(--invalid); }
.verdict.unknown { background: var(--unknown); }
.scenario { font-size: 17px; padding: 8px 12px; border-left: 6px solid; background:#fff; }
.scenario.met { border-color: var(--valid); }
.scenario.unmet { border-color: var(--invalid); font-weight: bold; }
.note { padding: 6px 12px; background: #fff4e0; border-left: 6px solid var(--unknown); }
dl.params, dl.ops { display:flex; flex-wrap: wrap; gap: 4px 22px; margin: 10px 0; }
dl.params div, dl.ops div { display:flex; gap:6px; }
dt { color: var(--muted); } dd { margin:0; font-weight: 600; }
dl.ops { flex-direction: column; }
h2 { margin: 26px 0 6px; font-size: 21px; border-bottom: 1px solid #ddd; }
h3 { margin: 16px 0 4px; font-size: 17px; }
table { border-collapse: collapse; background:#fff; }
td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
table.counts td.n { text-align: right; font-weight: bold; font-variant-numeric: tabular-nums; }
table.counts tr.bad td { color: var(--invalid); }
table.counts td.means { color: var(--muted); }
table.counts tr.bad td.means { color: #a05050; }
ol.examples { list-style: none; padding: 0; }
ol.examples li { background:#fff; margin: 6px 0; padding: 8px 12px; border-left: 4px solid #6a1b9a; }
.badge { display:inline-block; min-width: 1.5em; text-align:center; background:#6a1b9a; color:#fff; border-radius: 3px; font-weight:bold; }
.links a { margin-left: 6px; }
figure { margin: 4px 0; background:#fff; border: 1px solid #e4e4e4; }
svg.chart { display:block; width:100%; height:auto; }
svg.chart text { font-family: "Liberation Sans", "DejaVu Sans", Arial, Helvetica, sans-serif !important; }
.caption { color: var(--muted); font-size: 13px; margin: 2px 0 10px; }
.legend { font-size: 13px; margin: 4px 0; display:flex; flex-wrap: wrap; align-items:center; gap: 4px 6px; }
.sw { display:inline-block; width: 22px; height: 12px; vertical-align: middle; margin-left: 10px; font-style: normal; font-size: 11px; text-align:center; line-height: 12px; }
.sw.held { background:#3b6fb6; }
.sw.late { background: repeating-linear-gradient(45deg, #3b6fb6 0 1px, #a9c1e3 1px 5px); }
.sw.overlap { background:#d62728; }
.sw.overlap.late { background: repeating-linear-gradient(45deg, #d62728 0 1px, #f4b0b0 1px 5px); }
.sw.occ { background: rgba(59,111,182,.45); }
.sw.fault { background: rgba(255,179,59,.45); }
.sw.mark { background:#6a1b9a; color:#fff; width: 16px; }
.sw.open { border: 1px dashed #222; }
.sw.line { height: 3px; }
.sw.acked { background:#2ca02c; } .sw.written { background:#3b6fb6; } .sw.median { background:#7fa7d9; }
.sw.final { background:#d62728; width: 8px; height: 8px; }
.sw.failx { color:#d62728; font-weight:bold; font-size: 15px; width: 14px; }
.sw.infot { color:#e08a00; width: 14px; }
.missing { color: var(--muted); text-decoration: line-through; }
ul.warnings { color: #7a4b00; }
`
