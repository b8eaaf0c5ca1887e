package compare

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// MatrixPageFile is the page WriteMatrixPage writes into a matrix directory.
const MatrixPageFile = "matrix.html"

// WriteMatrixPage writes dir/matrix.html: the table of matrix.md as a page people read at a
// glance, each cell coloured by its verdict (green valid, red invalid, amber unknown, grey not
// run, with the reason as a tooltip), with its anomaly counts and throughput, linking to each
// run's page (run.Dir + "/index.html"); cells whose verdict differs from the expectations are
// outlined and listed. Like the run page it opens offline: no scripts, no external resources.
func WriteMatrixPage(dir string, m *Matrix) error {
	if m == nil {
		return fmt.Errorf("matrix page: no matrix")
	}
	var buf bytes.Buffer
	if err := matrixTmpl.Execute(&buf, buildMatrixPage(m)); err != nil {
		return fmt.Errorf("matrix page: %w", err)
	}
	p := filepath.Join(dir, MatrixPageFile)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("matrix page: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("matrix page: %w", err)
	}
	return nil
}

type matrixPage struct {
	Summary    string
	Counts     []countView
	Mismatch   bool
	Params     string
	Faults     []string
	Rows       []rowView
	Mismatches []mismatchView
	NotRun     []string
	Scenarios  []scenarioView
}

type scenarioView struct {
	ScenarioResult
	Row      string
	Class    string // the verdict, for the colour
	Counts   string
	Href     string
	Mismatch bool
}

type countView struct {
	N     int
	Word  string
	Class string
}

type rowView struct {
	Name  string
	Cells []cellView
}

type cellView struct {
	ID       string
	Class    string // valid, invalid, unknown, skipped, absent
	Label    string
	Counts   string
	Rate     string
	Liveness string // longest stall and share of time held
	// Detection is how hard the cell looked: "not found in 3 run(s) of 12s", or in how many runs
	// and how soon it found an anomaly.
	Detection string
	Runs      []runLink
	Title     string // tooltip
	Mismatch  string // "expected valid", when the verdict differs
}

type runLink struct {
	Text, Href, Class, Title string
}

type mismatchView struct {
	Text, Anchor string
}

func buildMatrixPage(m *Matrix) *matrixPage {
	pg := &matrixPage{Faults: m.Faults}
	pg.Params = m.paramsLine(orDash(m.Started), orDash(m.Duration))

	// Mismatch texts are "<cell>: expected X, got Y" (Mismatch.String).
	mismatchOf := map[string]string{}
	for _, mm := range m.Mismatches {
		cell, rest, _ := strings.Cut(mm, ": ")
		mismatchOf[cell] = rest
	}
	anchorOf := map[string]string{}

	rows, byKey := m.index()
	n := map[string]int{}
	for ri, row := range rows {
		rv := rowView{Name: row}
		for fi, f := range m.Faults {
			e := byKey[row+"/"+f]
			cv := cellView{ID: fmt.Sprintf("cell-%d-%d", ri, fi)}
			switch {
			case e.skip != nil:
				cv.Class, cv.Label, cv.Title = "skipped", "not run", e.skip.Why
				n["skipped"]++
			case e.result == nil:
				cv.Class, cv.Label, cv.Title = "absent", "(not run)", "this combination was not in the plan, or the matrix stopped early"
			default:
				cr := e.result
				cv.Class, cv.Label = cr.Verdict, cr.Label()
				n[cr.Verdict]++
				cv.Counts = anomalyText(cr.Sum())
				cv.Rate = fmt.Sprintf("%.0f ops/s", cr.MeanThroughput())
				cv.Liveness = cr.LivenessText()
				cv.Detection = cr.Detection()
				cv.Title = cr.String()
				for i, run := range cr.Runs {
					l := runLink{Text: fmt.Sprintf("run %d", i+1), Class: run.Verdict, Title: fmt.Sprintf("seed %d: %s", run.Seed, run.Verdict)}
					switch {
					case run.Error != "":
						l.Text += " failed"
						l.Title += ": " + run.Error
					case run.Dir != "":
						l.Href = path.Join(filepath.ToSlash(run.Dir), "index.html")
					}
					cv.Runs = append(cv.Runs, l)
				}
				if mm, ok := mismatchOf[cr.String()]; ok {
					cv.Mismatch = mm
					anchorOf[cr.String()] = cv.ID
				}
			}
			rv.Cells = append(rv.Cells, cv)
		}
		pg.Rows = append(pg.Rows, rv)
	}
	for _, mm := range m.Mismatches {
		cell, _, _ := strings.Cut(mm, ": ")
		pg.Mismatches = append(pg.Mismatches, mismatchView{Text: mm, Anchor: anchorOf[cell]})
	}
	pg.Mismatch = len(m.Mismatches) > 0
	for _, c := range []struct{ key, word string }{{"valid", "VALID"}, {"invalid", "INVALID"}, {"unknown", "UNKNOWN"}} {
		pg.Counts = append(pg.Counts, countView{N: n[c.key], Word: c.word, Class: c.key})
	}
	if n["skipped"] > 0 {
		pg.Counts = append(pg.Counts, countView{N: n["skipped"], Word: "not run", Class: "skipped"})
	}
	switch {
	case m.Interrupted:
		pg.Summary = "Interrupted: the matrix is incomplete"
	case pg.Mismatch:
		pg.Summary = fmt.Sprintf("%d cell(s) differ from the expectations", len(m.Mismatches))
	default:
		pg.Summary = "Lock backends under faults"
	}
	pg.NotRun = m.notRun()
	for _, r := range m.Scenarios {
		v := scenarioView{ScenarioResult: r, Row: r.Row(), Class: r.Verdict, Counts: anomalyText(r.Anomalies), Mismatch: !r.Met}
		if r.Verdict != "valid" && r.Verdict != "invalid" {
			v.Class = "unknown"
		}
		if r.Dir != "" {
			v.Href = path.Join(filepath.ToSlash(r.Dir), "index.html")
		}
		pg.Scenarios = append(pg.Scenarios, v)
	}
	return pg
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

var matrixTmpl = template.Must(template.New("matrix").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Summary}}</title>
<style>` + matrixCSS + `</style>
</head>
<body>
<header id="verdict" class="verdict {{if .Mismatch}}mismatch{{else}}neutral{{end}}">
<span class="word">{{.Summary}}</span>
<span class="counts">{{range $i, $c := .Counts}}{{if $i}} · {{end}}<b class="c-{{$c.Class}}">{{$c.N}} {{$c.Word}}</b>{{end}}</span>
</header>
<main>
<p>{{.Params}}</p>
<p class="legend"><i class="sw valid"></i>valid <i class="sw invalid"></i>invalid: some run lost data or let two clients believe they held the lock (without fencing) <i class="sw unknown"></i>unknown <i class="sw skipped"></i>not run (hover for why) <i class="sw mm"></i>differs from the expectations</p>
<table class="matrix">
<thead><tr><th>backend</th>{{range .Faults}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr><th class="row">{{.Name}}</th>
{{- range .Cells}}
<td id="{{.ID}}" class="cell {{.Class}}{{if .Mismatch}} mm{{end}}" title="{{.Title}}">
<div class="label">{{.Label}}</div>
{{- if .Counts}}<div class="n">{{.Counts}}</div>{{end}}
{{- if .Rate}}<div class="rate">{{.Rate}}</div>{{end}}
{{- if .Detection}}<div class="rate">{{.Detection}}</div>{{end}}
{{- if .Liveness}}<div class="rate">{{.Liveness}}</div>{{end}}
{{- if .Runs}}<div class="runs">{{range .Runs}}{{if .Href}}<a class="run r-{{.Class}}" href="{{.Href}}" title="{{.Title}}">{{.Text}}</a>{{else}}<span class="run r-error" title="{{.Title}}">{{.Text}}</span>{{end}} {{end}}</div>{{end}}
{{- if .Mismatch}}<div class="mmtext">≠ {{.Mismatch}}</div>{{end}}
</td>
{{- end}}
</tr>
{{- end}}
</tbody>
</table>
<p class="note">Counts are summed over the cell's runs; a cell is INVALID when any of its runs was. VALID means not found in the runs made, never safe: each cell says how many runs of how long it took.</p>
{{- if .Scenarios}}
<h2>Scenarios</h2>
<p class="note">Scripted stories from docs/scenarios.md, each expecting the verdict in its file.</p>
<table class="matrix scenarios">
<thead><tr><th>scenario</th><th>backend</th><th>expected</th><th>got</th></tr></thead>
<tbody>
{{- range .Scenarios}}
<tr><th class="row">{{.Name}}</th><td>{{.Row}}</td><td>{{.Expect}}</td>
<td class="cell {{.Class}}{{if .Mismatch}} mm{{end}}" title="{{.File}}">
<div class="label">{{.Verdict}}{{if .Met}} as expected{{end}}</div>
{{- if .Counts}}<div class="n">{{.Counts}}</div>{{end}}
{{- if .Error}}<div class="n">{{.Error}}</div>{{end}}
{{- if .Href}}<div class="runs"><a class="run r-{{.Class}}" href="{{.Href}}">run</a></div>{{end}}
{{- if .Mismatch}}<div class="mmtext">≠ expected {{.Expect}}</div>{{end}}
</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- if .Mismatches}}
<h2>Differs from the expectations</h2>
<ul class="mismatches">
{{- range .Mismatches}}
<li>{{if .Anchor}}<a href="#{{.Anchor}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}</li>
{{- end}}
</ul>
{{- end}}
{{- if .NotRun}}
<h2>Not run</h2>
<ul class="notrun">
{{- range .NotRun}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
<p class="files">Also: <a href="matrix.md">matrix.md</a> · <a href="matrix.json">matrix.json</a></p>
</main>
</body>
</html>
`))

const matrixCSS = `
:root { --valid:#1e7b34; --invalid:#c62828; --unknown:#b26a00; --ink:#1d1d1f; --muted:#5f6368; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 "Liberation Sans", "DejaVu Sans", Arial, Helvetica, sans-serif; color: var(--ink); background:#fafafa; }
main { max-width: 1340px; margin: 0 auto; padding: 8px 20px 40px; }
.verdict { padding: 18px 24px; color:#fff; display:flex; flex-wrap: wrap; align-items: baseline; gap: 6px 22px; }
.verdict .word { font-size: 32px; font-weight: bold; }
.verdict .counts { font-size: 18px; }
.verdict.neutral { background: #37474f; }
.verdict.mismatch { background: var(--invalid); }
.verdict b { padding: 1px 6px; border-radius: 3px; }
.verdict b.c-valid { background: var(--valid); } .verdict b.c-invalid { background: #8e1b1b; }
.verdict b.c-unknown { background: var(--unknown); } .verdict b.c-skipped { background: #777; }
h2 { margin: 24px 0 6px; font-size: 20px; border-bottom: 1px solid #ddd; }
table.matrix { border-collapse: separate; border-spacing: 4px; width: 100%; }
table.matrix th { text-align: left; padding: 4px 8px; font-size: 14px; }
table.matrix th.row { white-space: nowrap; }
td.cell { vertical-align: top; padding: 8px 10px; border-radius: 4px; min-width: 120px; color: #fff; border: 3px solid transparent; }
td.cell .label { font-weight: bold; font-size: 17px; letter-spacing: .5px; }
td.cell .n, td.cell .rate { font-size: 13px; }
td.cell .runs { margin-top: 4px; font-size: 13px; }
td.cell a { color: #fff; text-decoration: underline; }
td.cell.valid { background: var(--valid); }
td.cell.invalid { background: var(--invalid); }
td.cell.unknown { background: var(--unknown); }
td.cell.skipped { background: #d9d9d9; color: #555; cursor: help; }
td.cell.absent { background: #f0f0f0; color: #888; }
td.cell.mm { border: 3px solid #111; outline: 3px dashed #ffca28; outline-offset: 1px; }
td.cell .mmtext { margin-top: 4px; font-weight: bold; background: #111; color: #ffca28; padding: 1px 5px; border-radius: 3px; display: inline-block; }
.run.r-error { font-weight: bold; }
.legend { font-size: 13px; display:flex; flex-wrap: wrap; align-items:center; gap: 4px 6px; }
.sw { display:inline-block; width: 22px; height: 12px; margin-left: 10px; vertical-align: middle; }
.sw.valid { background: var(--valid); } .sw.invalid { background: var(--invalid); } .sw.unknown { background: var(--unknown); }
.sw.skipped { background: #d9d9d9; } .sw.mm { border: 2px solid #111; outline: 2px dashed #ffca28; }
.note, .files { color: var(--muted); font-size: 13px; }
`
