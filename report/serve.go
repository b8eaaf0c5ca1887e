package report

import (
	"encoding/json"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RunEntry is one stored run, as the index page lists it.
type RunEntry struct {
	Dir      string // relative to the results directory, with forward slashes
	Backend  string
	Verdict  string
	Scenario string
	Seed     int64
	Summary  string
	History  string // the history's file name (the binary file, or an older run's JSON lines)
}

// ListRuns finds every run directory (one holding results.json) below base, newest first.
func ListRuns(base string) ([]RunEntry, error) {
	var runs []RunEntry
	err := filepath.WalkDir(base, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&os.ModeSymlink != 0 || d.IsDir() || d.Name() != ResultsFile {
			return nil // "latest" links would list runs twice
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var r Results
		if json.Unmarshal(b, &r) != nil || r.Result == nil {
			return nil
		}
		rel, _ := filepath.Rel(base, filepath.Dir(path))
		e := RunEntry{Dir: filepath.ToSlash(rel), Backend: r.Backend, Verdict: r.Valid.String(), Seed: r.Seed,
			Summary: anomalyLine(r.Anomalies)}
		if r.Scenario != nil {
			e.Scenario = r.Scenario.Name
		}
		if h := HistoryPath(filepath.Dir(path)); h != "" {
			e.History = filepath.Base(h)
		}
		runs = append(runs, e)
		return nil
	})
	// Directory names end in a timestamp: newest first.
	sort.Slice(runs, func(i, j int) bool { return lastPart(runs[i].Dir) > lastPart(runs[j].Dir) })
	return runs, err
}

func lastPart(p string) string { return p[strings.LastIndex(p, "/")+1:] }

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>locktest runs</title>
<style>
body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}
.valid{background:#c8f0c8}.invalid{background:#f6c4c4}.unknown{background:#f3e6a5}
</style></head><body>
<h1>locktest runs</h1>
<table><tr><th>run</th><th>backend</th><th>scenario</th><th>verdict</th><th>anomalies</th><th>seed</th><th>files</th></tr>
{{range .}}<tr class="{{.Verdict}}"><td>{{.Dir}}</td><td>{{.Backend}}</td><td>{{.Scenario}}</td><td>{{.Verdict}}</td><td>{{.Summary}}</td><td>{{.Seed}}</td>
<td><a href="/files/{{.Dir}}/results.json">results</a> <a href="/files/{{.Dir}}/linearizability.html">linearizability</a> {{if .History}}<a href="/files/{{.Dir}}/{{.History}}">history</a>{{end}}</td></tr>
{{else}}<tr><td colspan="7">no runs yet: run <code>locktest test</code></td></tr>{{end}}
</table></body></html>
`))

// Handler serves the index of the runs under base at / and their files under /files/.
func Handler(base string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files/", http.FileServer(http.Dir(base))))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		runs, err := ListRuns(base)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		indexPage.Execute(w, runs)
	})
	return mux
}
