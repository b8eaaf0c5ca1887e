package compare

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/workload"
)

func testMatrix() *Matrix {
	return &Matrix{
		Started: "2026-01-01T00:00:00Z", Duration: "7m0s",
		Faults: []string{NoFault, "pause-client", "clock"},
		Params: MatrixParams{Clients: 5, Nodes: 5, TTL: "2s", TimeLimit: "20s", FaultInterval: "5s", Runs: 2, Seed: 1},
		Cells: []CellResult{
			{Cell: Cell{lock.Redlock, workload.NoFencing, NoFault}, Verdict: "valid", Runs: []RunSummary{
				{Seed: 1, Verdict: "valid", Throughput: 400, Dir: "redlock_none_none/redlock/a"},
				{Seed: 2, Verdict: "valid", Throughput: 420, Dir: "redlock_none_none/redlock/b"}}},
			{Cell: Cell{lock.Redlock, workload.NoFencing, "pause-client"}, Verdict: "invalid", Invalid: 1, Runs: []RunSummary{
				{Seed: 1001, Verdict: "invalid", Anomalies: checker.Anomalies{LostUpdates: 7, Overlaps: 3}, Throughput: 300, Dir: "redlock_none_pause-client/redlock/c"},
				{Seed: 1002, Verdict: "valid", Throughput: 310, Dir: "redlock_none_pause-client/redlock/d"}}},
			{Cell: Cell{lock.Redlock, workload.NoFencing, "clock"}, Verdict: "unknown", Runs: []RunSummary{
				{Seed: 2001, Verdict: "error", Error: "docker: no such image"}}},
			{Cell: Cell{lock.RedisSingle, workload.FenceReadsWrites, "pause-client"}, Verdict: "invalid", Invalid: 1, Runs: []RunSummary{
				{Seed: 3001, Verdict: "invalid", Anomalies: checker.Anomalies{LostUpdates: 1}, Dir: "redis-single_reads-writes_pause-client/redis-single/e"}}},
		},
		Skipped: []Skip{
			{Cell{lock.NoLock, workload.NoFencing, "clock"}, "nolock has no lock nodes to fault"},
			{Cell{lock.Redlock, workload.FenceReadsWrites, NoFault}, "redlock has no monotonic fencing tokens to check"},
		},
		Mismatches: []string{"redis-single + fencing reads-writes / pause-client: expected valid, got invalid"},
	}
}

func TestMatrixPage(t *testing.T) {
	dir := t.TempDir()
	if keep := os.Getenv("LOCKTEST_KEEP_PAGES"); keep != "" {
		dir = filepath.Join(keep, t.Name())
		os.MkdirAll(dir, 0o755)
	}
	if err := WriteMatrixPage(dir, testMatrix()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, MatrixPageFile))
	if err != nil {
		t.Fatal(err)
	}
	raw := string(b)
	checkBalanced(t, raw)
	doc, err := html.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]*html.Node{} // by title prefix "row / fault"
	var links []string
	var verdict *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "td":
				cells[attrOf(n, "title")] = n
			case n.Data == "a":
				links = append(links, attrOf(n, "href"))
			}
			if attrOf(n, "id") == "verdict" {
				verdict = n
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	if verdict == nil {
		t.Fatal("no verdict banner")
	}
	if got := text(verdict); !strings.Contains(got, "1 VALID") || !strings.Contains(got, "2 INVALID") || !strings.Contains(got, "1 UNKNOWN") || !strings.Contains(got, "differ") {
		t.Errorf("banner says %q", got)
	}
	for title, class := range map[string]string{
		"redlock / none":                                     "valid",
		"redlock / pause-client":                             "invalid",
		"redlock / clock":                                    "unknown",
		"nolock has no lock nodes to fault":                  "skipped",
		"redis-single + fencing reads-writes / pause-client": "invalid",
	} {
		td := cells[title]
		if td == nil {
			t.Errorf("no cell titled %q (cells: %v)", title, keys(cells))
			continue
		}
		if c := attrOf(td, "class"); !strings.Contains(c, class) {
			t.Errorf("cell %q has class %q, want %s", title, c, class)
		}
	}
	if c := attrOf(cells["redis-single + fencing reads-writes / pause-client"], "class"); !strings.Contains(c, "mm") {
		t.Errorf("the mismatching cell is not outlined: class %q", c)
	}
	if c := attrOf(cells["redlock / pause-client"], "class"); strings.Contains(c, "mm") {
		t.Errorf("a matching cell is outlined")
	}
	for _, want := range []string{"redlock_none_none/redlock/a/index.html", "redlock_none_none/redlock/b/index.html", "redlock_none_pause-client/redlock/c/index.html"} {
		found := false
		for _, l := range links {
			found = found || l == want
		}
		if !found {
			t.Errorf("no link to %s (links %v)", want, links)
		}
	}
	pc := text(cells["redlock / pause-client"])
	for _, want := range []string{"INVALID 1/2", "7 lost", "3 overlaps", "305 ops/s"} {
		if !strings.Contains(pc, want) {
			t.Errorf("pause-client cell %q lacks %q", pc, want)
		}
	}
	if !strings.Contains(text(cells["redlock / clock"]), "failed") {
		t.Errorf("a failed run is not shown")
	}
	// Colours: every verdict has its own.
	for _, css := range []string{"td.cell.valid { background: var(--valid)", "td.cell.invalid { background: var(--invalid)", "td.cell.unknown { background: var(--unknown)", "td.cell.skipped { background: #d9d9d9"} {
		if !strings.Contains(raw, css) {
			t.Errorf("no style %q", css)
		}
	}
	for _, bad := range []string{"http://", "https://", "<script", "<link"} {
		if strings.Contains(raw, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, want := range []string{"expected valid, got invalid", "redlock + fencing reads-writes: redlock has no monotonic fencing tokens", "nolock / clock: nolock has no lock nodes"} {
		if !strings.Contains(text(doc), want) {
			t.Errorf("page does not say %q", want)
		}
	}
	if err := WriteMatrixPage(t.TempDir(), &Matrix{}); err != nil {
		t.Errorf("empty matrix: %v", err)
	}
}

func attrOf(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			sb.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && n.Data == "style" {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return sb.String()
}

func keys(m map[string]*html.Node) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// checkBalanced checks that every non-void element is closed, in order.
func checkBalanced(t *testing.T, s string) {
	t.Helper()
	void := map[string]bool{"meta": true, "br": true, "img": true, "link": true, "hr": true, "input": true}
	z := html.NewTokenizer(strings.NewReader(s))
	var stack []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			if len(stack) > 0 {
				t.Fatalf("unclosed: %v", stack)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !void[string(name)] {
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

// The scenarios played beside the matrix get their own table: coloured by verdict, linking to the
// run, and marked when a scenario missed the verdict its file expects.
func TestMatrixPageScenarios(t *testing.T) {
	m := testMatrix()
	m.Scenarios = []ScenarioResult{
		{Name: "R1", File: "scenarios/r1.yaml", Backend: "redis-sentinel", Fencing: "none", Expect: "invalid", Verdict: "invalid", Met: true, Dir: "scenarios/redis-sentinel/x"},
		{Name: "K4", File: "scenarios/k4.yaml", Backend: "redlock", Fencing: "none", Expect: "invalid", Verdict: "valid"},
	}
	dir := t.TempDir()
	if err := WriteMatrixPage(dir, m); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, MatrixPageFile))
	if err != nil {
		t.Fatal(err)
	}
	raw := string(b)
	checkBalanced(t, raw)
	for _, want := range []string{
		`<h2>Scenarios</h2>`,
		`<td class="cell invalid" title="scenarios/r1.yaml">`,
		`href="scenarios/redis-sentinel/x/index.html"`,
		`<td class="cell valid mm" title="scenarios/k4.yaml">`,
		`≠ expected invalid`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("matrix.html lacks %q", want)
		}
	}
}
