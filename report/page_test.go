package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/nemesis"
)

// Test histories start at an arbitrary CLOCK_MONOTONIC origin, far from zero like a real one.
const (
	t0 = int64(7_000) * 1e9
	ms = int64(1e6)
)

func at(msec float64) int64 { return t0 + int64(msec*float64(ms)) }

// histBuilder writes small histories by hand; times are milliseconds after t0.
type histBuilder struct {
	ops []history.Op
	n   map[int]int
}

func newHist(clients int) *histBuilder {
	return &histBuilder{n: map[int]int{}, ops: []history.Op{{
		Time: t0, Process: history.HarnessProcess, Client: -1, F: history.RunMeta,
		Meta: &history.Meta{Backend: "synthetic", Clients: clients, Nodes: 1, TTLMs: 500, Seed: 7, RunID: "test-run", Started: "2026-01-01T00:00:00Z"},
	}}}
}

// cycle records one loop of process p: acquire returns at acq (lease valid ttl ms), an increment
// from call to ret reading read (typ ok or fail), release invoked at rel. It returns the id of
// the increment.
func (b *histBuilder) cycle(p int, acq, ttl, call, ret float64, typ history.Type, read int64, rel float64) string {
	b.n[p]++
	k := b.n[p]
	owner := fmt.Sprintf("p%d-l%d", p, k)
	id := fmt.Sprintf("p%d-%d", p, k)
	v := history.Int64(read)
	if typ != history.OK {
		v = nil
	}
	b.ops = append(b.ops,
		history.Op{Time: at(acq) - ms/2, Process: p, Client: p, Type: history.Invoke, F: history.Acquire},
		history.Op{Time: at(acq), Process: p, Client: p, Type: history.OK, F: history.Acquire, Owner: owner, Deadline: at(acq + ttl)},
		history.Op{Time: at(call), Process: p, Client: p, Type: history.Invoke, F: history.Incr, ID: id},
		history.Op{Time: at(ret), Process: p, Client: p, Type: typ, F: history.Incr, ID: id, Value: v},
		history.Op{Time: at(rel), Process: p, Client: p, Type: history.Invoke, F: history.Release, Owner: owner},
		history.Op{Time: at(rel) + ms/10, Process: p, Client: p, Type: history.OK, F: history.Release, Owner: owner},
	)
	return id
}

func (b *histBuilder) fault(id, kind, target string, from, to float64) {
	b.ops = append(b.ops,
		history.Op{Time: at(from), Process: history.NemesisProcess, Type: history.Invoke, F: history.Nemesis, ID: id, Fault: kind, Targets: []string{target}, Detail: "SIGSTOP"},
		history.Op{Time: at(to), Process: history.NemesisProcess, Type: history.OK, F: history.Nemesis, ID: id, Fault: kind, Targets: []string{target}})
}

// finish adds the final read at msec and the write log (ids in storage order, with the values
// they wrote), and returns the history sorted by time as a harness writes it.
func (b *histBuilder) finish(msec float64, final int64, writes ...any) []history.Op {
	b.ops = append(b.ops,
		history.Op{Time: at(msec), Process: history.HarnessProcess, Client: 1 << 20, Type: history.Invoke, F: history.Read, ID: "final"},
		history.Op{Time: at(msec + 1), Process: history.HarnessProcess, Client: 1 << 20, Type: history.OK, F: history.Read, ID: "final", Value: history.Int64(final)})
	for i := 0; i+1 < len(writes); i += 2 {
		b.ops = append(b.ops, history.Op{Time: at(msec + 2), Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLog,
			ID: writes[i].(string), Value: history.Int64(writes[i+1].(int64)), Seq: int64(i/2 + 1)})
	}
	b.ops = append(b.ops, history.Op{Time: at(msec + 2), Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLogEnd,
		LogLen: history.Int64(int64(len(writes) / 2))})
	sortOps(b.ops)
	return b.ops
}

func sortOps(ops []history.Op) {
	// Insertion order is nearly sorted; a stable sort keeps invoke before completion at equal times.
	for i := 1; i < len(ops); i++ {
		for j := i; j > 0 && ops[j].Time < ops[j-1].Time; j-- {
			ops[j], ops[j-1] = ops[j-1], ops[j]
		}
	}
}

// invalidHistory is Kleppmann's story with three processes: p2 reads the counter, is paused past
// its lease, p0 acquires the expired lock and increments the same value, and p2's late write sets
// the counter back. Overlap, duplicate read, stale write, two lost updates.
func invalidHistory() []history.Op {
	b := newHist(3)
	b.cycle(0, 100, 500, 110, 120, history.OK, 0, 130)
	b.cycle(1, 200, 500, 210, 220, history.OK, 1, 230)
	b.fault("f1", "pause-client", "p2", 250, 1300)
	b.cycle(2, 240, 500, 245, 1310, history.OK, 2, 1320)
	b.cycle(0, 800, 500, 810, 820, history.OK, 2, 830)
	b.cycle(1, 900, 500, 910, 920, history.OK, 3, 930)
	b.cycle(1, 1000, 500, 1010, 1020, history.Fail, 0, 1030)
	return b.finish(1400, 3, "p0-1", int64(1), "p1-1", int64(2), "p0-2", int64(3), "p1-2", int64(4), "p2-1", int64(3))
}

// validHistory is three processes taking turns under a working lock.
func validHistory() []history.Op {
	b := newHist(3)
	var writes []any
	for k := 0; k < 30; k++ {
		p := k % 3
		s := 100 + float64(k)*20
		id := b.cycle(p, s, 500, s+2, s+5, history.OK, int64(k), s+8)
		writes = append(writes, id, int64(k+1))
	}
	b.fault("f1", "delay", "n1", 300, 500)
	return b.finish(800, 30, writes...)
}

func results(ops []history.Op) *Results {
	return &Results{
		Result:  checker.Check(ops, checker.Options{}),
		Backend: "synthetic", Seed: 7, RunID: "test-run",
		Nodes: 1, Config: config.Run{Clients: 3, TTL: 500 * time.Millisecond, TimeLimit: 2 * time.Second, Fencing: "none", Persistence: "none",
			Faults: []nemesis.Kind{nemesis.PauseClient}, FaultInterval: time.Second},
		Files: Files{History: HistoryFile, Visualization: VisualizationFile, WorkerLog: WorkerLogFile},
	}
}

// page is a written run page, parsed.
type page struct {
	raw  string
	doc  *html.Node
	text string // all text content, entities decoded
}

func writePage(t *testing.T, dir string, r *Results, ops []history.Op) page {
	t.Helper()
	if keep := os.Getenv("LOCKTEST_KEEP_PAGES"); keep != "" {
		// To look at the pages: LOCKTEST_KEEP_PAGES=/tmp/pages go test ./report -run RunPage
		to := filepath.Join(keep, t.Name())
		if err := os.MkdirAll(to, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(to, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		dir = to
	}
	if err := WriteRunPage(dir, r, checker.Records(ops)); err != nil {
		t.Fatalf("WriteRunPage: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, PageFile))
	if err != nil {
		t.Fatalf("no page: %v", err)
	}
	checkWellFormed(t, string(b))
	doc, err := html.Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("page does not parse: %v", err)
	}
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && (n.Data == "style" || n.Data == "script") {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return page{raw: string(b), doc: doc, text: sb.String()}
}

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkWellFormed tokenizes the page and checks that every element is closed in order (the
// parser would forgive a missing end tag; we do not), that there is one doctype, and no script.
func checkWellFormed(t *testing.T, s string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(s))
	var stack []string
	doctypes := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("tokenize: %v", z.Err())
			}
			if len(stack) > 0 {
				t.Fatalf("unclosed elements at the end: %v", stack)
			}
			if doctypes != 1 {
				t.Fatalf("%d doctypes", doctypes)
			}
			return
		case html.DoctypeToken:
			doctypes++
		case html.StartTagToken:
			name, _ := z.TagName()
			if string(name) == "script" {
				t.Fatalf("the page has a script")
			}
			if !voidElements[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				t.Fatalf("</%s> closes %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// find returns the elements for which match is true.
func (p page) find(match func(n *html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(p.doc)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return sb.String()
}

// checkCommon checks what every run page must have.
func checkCommon(t *testing.T, p page, word, class string) {
	t.Helper()
	banners := p.find(func(n *html.Node) bool { return attr(n, "id") == "verdict" })
	if len(banners) != 1 {
		t.Fatalf("%d verdict banners", len(banners))
	}
	if got := textOf(banners[0]); !strings.Contains(got, word) || (word == "VALID" && strings.Contains(got, "INVALID")) {
		t.Errorf("verdict banner says %q, want %s", got, word)
	}
	if c := attr(banners[0], "class"); !strings.Contains(c, class) {
		t.Errorf("verdict banner class %q, want %s", c, class)
	}
	// Self-contained: nothing is fetched from anywhere, not even a namespace URL in the markup.
	for _, bad := range []string{"http://", "https://", "//cdn", "<script", "<link", "@import", "url("} {
		if strings.Contains(p.raw, bad) {
			i := strings.Index(p.raw, bad)
			t.Errorf("page contains %q: …%s…", bad, p.raw[max(0, i-60):min(len(p.raw), i+60)])
		}
	}
	svgs := p.find(func(n *html.Node) bool { return n.Data == "svg" })
	if len(svgs) < 4 {
		t.Errorf("%d inline <svg> charts, want at least 4 (timeline, faults, counter, latency, throughput)", len(svgs))
	}
	for _, s := range svgs {
		if attr(s, "viewbox") == "" && attr(s, "viewBox") == "" {
			t.Errorf("an <svg> without viewBox cannot scale")
		}
	}
	for _, want := range []string{"seed", "7", "test-run", "synthetic", "500ms"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("page does not show %q", want)
		}
	}
	hrefs := map[string]bool{}
	for _, a := range p.find(func(n *html.Node) bool { return n.Data == "a" }) {
		hrefs[attr(a, "href")] = true
	}
	for _, f := range []string{ResultsFile, HistoryFile, VisualizationFile, WorkerLogFile} {
		if !hrefs[f] {
			t.Errorf("no link to %s (links: %v)", f, hrefs)
		}
	}
}

func TestRunPageInvalid(t *testing.T) {
	ops := invalidHistory()
	r := results(ops)
	if r.Valid != checker.Invalid || r.Anomalies.Overlaps == 0 || r.Anomalies.LostUpdates != 2 {
		t.Fatalf("the test history should be invalid with an overlap and 2 lost updates: %+v", r.Anomalies)
	}
	r.Scenario = &ScenarioOutcome{Name: "K1", Expect: "invalid", Met: true}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ScheduleFile), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := writePage(t, dir, r, ops)
	checkCommon(t, p, "INVALID", "invalid")
	for _, ex := range r.Examples {
		if !strings.Contains(p.text, ex.Text) {
			t.Errorf("example %s missing: %q", ex.Kind, ex.Text)
		}
	}
	for _, want := range []string{"2 lost update(s)", "Scenario K1", "expectation met", "pause-client", "Porcupine view", "close-up", ScheduleFile} {
		if !strings.Contains(p.text, want) {
			t.Errorf("page does not show %q", want)
		}
	}
	// The examples are marked on the charts by number, and p2's overlapping hold is drawn red.
	if !strings.Contains(p.raw, ">1,2<") && !strings.Contains(p.raw, ">1<") {
		t.Errorf("no example marker on the charts")
	}
	if !strings.Contains(p.raw, "#D62728") && !strings.Contains(p.raw, "#d62728") {
		t.Errorf("no red (overlapping) hold drawn")
	}
	if zooms := p.find(func(n *html.Node) bool { return strings.HasPrefix(attr(n, "id"), "zoom-") }); len(zooms) == 0 {
		t.Errorf("no close-up of the anomaly")
	}
	hasSchedule := false
	for _, a := range p.find(func(n *html.Node) bool { return n.Data == "a" }) {
		hasSchedule = hasSchedule || attr(a, "href") == ScheduleFile
	}
	if !hasSchedule {
		t.Errorf("no link to %s although it exists", ScheduleFile)
	}
}

func TestRunPageValid(t *testing.T) {
	ops := validHistory()
	r := results(ops)
	if r.Valid != checker.Valid {
		t.Fatalf("the test history should be valid: %+v %v", r.Anomalies, r.Warnings)
	}
	p := writePage(t, t.TempDir(), r, ops)
	checkCommon(t, p, "VALID", "valid")
	for _, want := range []string{"no anomaly", "No anomaly", "delay"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("page does not show %q", want)
		}
	}
	if strings.Contains(p.text, ScheduleFile) {
		t.Errorf("links %s, which does not exist", ScheduleFile)
	}
}

// An unknown verdict, an incomplete run and no history at all still give a page.
func TestRunPageDegenerate(t *testing.T) {
	ops := validHistory()
	r := results(ops[:len(ops)/2])
	r.Incomplete, r.Interrupted = true, true
	p := writePage(t, t.TempDir(), r, ops[:len(ops)/2])
	if r.Valid != checker.Unknown {
		t.Fatalf("a history without its final read should be unknown, got %v", r.Valid)
	}
	if !strings.Contains(textOf(p.find(func(n *html.Node) bool { return attr(n, "id") == "verdict" })[0]), "UNKNOWN") {
		t.Errorf("no UNKNOWN banner")
	}
	for _, want := range []string{"Interrupted", "Incomplete"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("page does not say %q", want)
		}
	}
	// The holds are drawn from the history, which results.json does not carry.
	full := validHistory()
	r = results(full)
	p = writePage(t, t.TempDir(), r, full)
	if !strings.Contains(p.raw, "fill:#3A6EB5") && !strings.Contains(p.raw, "fill:#3B6FB6") {
		t.Errorf("no hold drawn")
	}
	empty := &Results{Result: &checker.Result{}}
	if err := WriteRunPage(t.TempDir(), empty, nil); err != nil {
		t.Fatalf("empty results: %v", err)
	}
	if err := WriteRunPage(t.TempDir(), nil, nil); err == nil {
		t.Fatalf("nil results: no error")
	}
}

// bigHistory is n increments by 5 processes taking turns every 100µs, with one holder paused for
// 3 s past its lease in the middle (overlaps, a stale write, lost updates) and a fault window.
func bigHistory(n int) []history.Op {
	const us = int64(1e3)
	ops := make([]history.Op, 0, 6*n+n+16)
	ops = append(ops, history.Op{Time: t0, Process: history.HarnessProcess, Client: -1, F: history.RunMeta,
		Meta: &history.Meta{Backend: "synthetic", Clients: 5, TTLMs: 1000, Seed: 7, RunID: "big"}})
	type write struct {
		id string
		v  int64
	}
	var log []write
	var counter int64
	t := t0 + ms
	pausedAt := n / 2
	var late []history.Op
	var lateWrite write
	pauseEnd := int64(0)
	for k := 0; k < n; k++ {
		p := k % 5
		id := fmt.Sprintf("p%d-%d", p, k)
		owner := "o" + id
		read := counter
		ops = append(ops,
			history.Op{Time: t, Process: p, Client: p, Type: history.OK, F: history.Acquire, Owner: owner, Deadline: t + 1000*ms},
			history.Op{Time: t + 10*us, Process: p, Client: p, Type: history.Invoke, F: history.Incr, ID: id})
		if k == pausedAt {
			// Paused after reading: the write and release come 3 s later, when others have moved on.
			pauseEnd = t + 3000*ms
			ops = append(ops,
				history.Op{Time: t + 20*us, Process: history.NemesisProcess, Type: history.Invoke, F: history.Nemesis, ID: "f1", Fault: "pause-client", Targets: []string{fmt.Sprintf("p%d", p)}, Detail: "SIGSTOP"},
				history.Op{Time: pauseEnd, Process: history.NemesisProcess, Type: history.OK, F: history.Nemesis, ID: "f1", Fault: "pause-client", Targets: []string{fmt.Sprintf("p%d", p)}})
			late = []history.Op{
				{Time: pauseEnd + 10*us, Process: p, Client: p, Type: history.OK, F: history.Incr, ID: id, Value: history.Int64(read)},
				{Time: pauseEnd + 20*us, Process: p, Client: p, Type: history.Invoke, F: history.Release, Owner: owner},
				{Time: pauseEnd + 30*us, Process: p, Client: p, Type: history.Fail, F: history.Release, Owner: owner},
			}
			lateWrite = write{id, read + 1}
			t += 1001 * ms // the lock is free again once the lease ran out
			continue
		}
		ops = append(ops,
			history.Op{Time: t + 40*us, Process: p, Client: p, Type: history.OK, F: history.Incr, ID: id, Value: history.Int64(read)},
			history.Op{Time: t + 50*us, Process: p, Client: p, Type: history.Invoke, F: history.Release, Owner: owner},
			history.Op{Time: t + 60*us, Process: p, Client: p, Type: history.OK, F: history.Release, Owner: owner})
		counter++
		log = append(log, write{id, counter})
		if late != nil && t > pauseEnd {
			ops = append(ops, late...)
			log = append(log, lateWrite)
			counter = lateWrite.v
			late = nil
		}
		t += 100 * us
	}
	ops = append(ops,
		history.Op{Time: t + ms, Process: history.HarnessProcess, Client: 1 << 20, Type: history.Invoke, F: history.Read, ID: "final"},
		history.Op{Time: t + 2*ms, Process: history.HarnessProcess, Client: 1 << 20, Type: history.OK, F: history.Read, ID: "final", Value: history.Int64(counter)})
	for i, w := range log {
		ops = append(ops, history.Op{Time: t + 3*ms, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLog,
			ID: w.id, Value: history.Int64(w.v), Seq: int64(i + 1)})
	}
	ops = append(ops, history.Op{Time: t + 3*ms, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLogEnd,
		LogLen: history.Int64(int64(len(log)))})
	sortOps(ops)
	return ops
}

// A long run gives a small page quickly: holds, latencies and the counter are downsampled.
func TestRunPageLargeHistory(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 50_000
	}
	ops := bigHistory(n)
	r := results(ops)
	if r.Valid != checker.Invalid || r.Anomalies.Overlaps == 0 {
		t.Fatalf("the big history should be invalid with overlaps: %+v", r.Anomalies)
	}
	dir := t.TempDir()
	start := time.Now()
	p := writePage(t, dir, r, ops)
	took := time.Since(start)
	size := len(p.raw)
	t.Logf("%d increments, %d records: page %d bytes in %v", n, len(ops), size, took)
	if size > 5<<20 {
		t.Errorf("page is %d bytes, want under 5 MB", size)
	}
	if took > 20*time.Second {
		t.Errorf("page took %v", took)
	}
	checkCommon(t, p, "INVALID", "invalid")
}
