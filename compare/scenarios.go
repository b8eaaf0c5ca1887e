package compare

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/scenarios"
	"github.com/locktest/locktest/workload"
)

// ScenarioResult is one scripted scenario played beside the matrix: the stories a random schedule
// hits only by luck (K1-W, K3, K4, R1), each with the verdict its file expects.
type ScenarioResult struct {
	Name      string            `json:"name"`
	File      string            `json:"file"`
	Backend   string            `json:"backend"`
	Fencing   string            `json:"fencing"`
	Expect    string            `json:"expect"`
	Verdict   string            `json:"verdict"`
	Met       bool              `json:"met"`
	Anomalies checker.Anomalies `json:"anomalies"`
	// Dir is the run's results directory, relative to the matrix directory.
	Dir     string  `json:"dir,omitempty"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Row is the scenario's backend×fencing, named as the matrix names its rows.
func (r ScenarioResult) Row() string {
	return Cell{Backend: lock.Backend(r.Backend), Fencing: workload.Fencing(r.Fencing)}.Row()
}

// RunScenarios plays each scenario (a shipped scenario's name or a file) with base's settings
// for everything the scenario does not set, results under dir/scenarios. It stops early when ctx
// ends; a scenario cut short is left out, as not played. progress, if set, is called after each.
func RunScenarios(ctx context.Context, base harness.Params, refs []string, dir string, progress func(ScenarioResult)) []ScenarioResult {
	var out []ScenarioResult
	for _, ref := range refs {
		if ctx.Err() != nil {
			break
		}
		r, cut := playScenario(ctx, base, ref, dir)
		if cut {
			break
		}
		out = append(out, r)
		if progress != nil {
			progress(r)
		}
	}
	return out
}

// playScenario plays one scenario; cut is true when ctx ended before it could finish.
func playScenario(ctx context.Context, base harness.Params, ref, dir string) (_ ScenarioResult, cut bool) {
	sc, file, err := scenarios.Find(ref)
	if err != nil {
		return ScenarioResult{Name: ref, Verdict: "error", Error: err.Error()}, false
	}
	p := base
	p.Faults, p.Reuse = nil, nil
	p.Backend, p.Nodes, p.Fencing, p.Persistence = "", 0, "", ""
	p.UseScenario(sc, func(string) bool { return false })
	p.ScenarioFile = file
	p.ResultsDir = filepath.Join(dir, "scenarios")
	r := ScenarioResult{Name: sc.Name, File: file, Backend: string(p.Backend), Fencing: string(p.Fencing), Expect: sc.Expect}
	if r.Fencing == "" {
		r.Fencing = "none"
	}
	began := time.Now()
	o, err := runTest(ctx, p)
	r.Seconds = time.Since(began).Seconds()
	if cutShort(ctx, o, err) {
		return r, true
	}
	if err != nil {
		r.Verdict, r.Error = "error", err.Error()
		return r, false
	}
	res := o.Results
	r.Verdict, r.Anomalies = res.Valid.String(), res.Anomalies
	if res.Scenario != nil {
		r.Met = res.Scenario.Met
		if res.Scenario.Error != "" {
			r.Error = res.Scenario.Error
		} else if len(res.Scenario.Missing) > 0 {
			r.Error = "missing the anomalies its story needs: " + strings.Join(res.Scenario.Missing, ", ")
		}
	}
	if rel, err := filepath.Rel(dir, o.Dir); err == nil {
		r.Dir = rel
	}
	return r, false
}

// scenarioMarkdown writes the scenario table of matrix.md.
func scenarioMarkdown(w io.Writer, rs []ScenarioResult) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Scenarios\n\nScripted stories from docs/scenarios.md, each expecting the verdict in its file.\n\n")
	fmt.Fprintf(w, "| scenario | backend | expected | got | evidence |\n|---|---|---|---|---|\n")
	for _, r := range rs {
		got := "**" + strings.ToUpper(r.Verdict) + "**"
		if r.Met {
			got += " as expected"
		} else {
			got += " — NOT as expected"
		}
		evidence := anomalyText(r.Anomalies)
		if r.Error != "" {
			evidence = strings.TrimPrefix(evidence+"; ", "; ") + strings.ReplaceAll(r.Error, "|", "/")
		}
		if r.Dir != "" {
			evidence += fmt.Sprintf(" [run](%s)", filepath.ToSlash(r.Dir))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.Name, r.Row(), strings.ToUpper(r.Expect), got, evidence)
	}
}

// anomalyText is the short anomaly list of a cell or scenario: "3 lost, 2 overlaps".
func anomalyText(a checker.Anomalies) string {
	var parts []string
	for _, x := range []struct {
		n    int64
		name string
	}{{a.LostUpdates, "lost"}, {a.Overlaps, "overlaps"}, {a.OverlapsWithinValidity, "in validity"}, {a.StaleWrites, "stale"}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.name))
		}
	}
	return strings.Join(parts, ", ")
}
