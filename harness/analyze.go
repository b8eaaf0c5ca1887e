package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/scenario"
)

// ErrNotARun means a directory holds no history to analyze.
var ErrNotARun = errors.New("not a run directory")

// Analyze re-checks the run stored in dir with the current checker and rewrites its results.json
// and visualization: after a checker change, or after the harness died mid-run and left a partial
// history (a cut-short last record is tolerated; the run is then marked incomplete). The history
// is the run's history.lkh, or the history.jsonl of a run of an earlier version. The run's
// parameters come from its results.json when there is one, else from the history's metadata.
// progress, if not nil, is told how far each read of the history has got (see history.File).
func Analyze(dir string, progress func(pass int, read, size int64)) (*report.Results, error) {
	path := report.HistoryPath(dir)
	if path == "" {
		return nil, fmt.Errorf("%w: %s has no %s (nor the %s of an older run)", ErrNotARun, dir, report.HistoryFile, report.LegacyHistoryFile)
	}
	start := time.Now()
	hf := &history.File{Path: path, Progress: progress}
	res, err := checker.CheckSource(hf, checker.Options{})
	if err != nil {
		return nil, err
	}
	out := &report.Results{Result: res}
	var prev report.Results
	if b, err := os.ReadFile(filepath.Join(dir, report.ResultsFile)); err == nil && json.Unmarshal(b, &prev) == nil {
		out.Backend, out.Seed, out.RunID, out.Config, out.Nodes = prev.Backend, prev.Seed, prev.RunID, prev.Config, prev.Nodes
		out.Interrupted, out.Killed, out.Timings, out.Throughput = prev.Interrupted, prev.Killed, prev.Timings, prev.Throughput
		out.Coordinator = prev.Coordinator // the run's coordinator, not this analyze
		if sc := prev.Scenario; sc != nil {
			out.Scenario = rejudge(sc, res)
		}
	}
	if m, err := firstMeta(path); err == nil && m != nil {
		// What results.json lacks (there is none, or an older locktest wrote it), the history's
		// meta record gives.
		if out.Backend == "" {
			out.Backend, out.Seed, out.RunID = m.Backend, m.Seed, m.RunID
		}
		if out.Nodes == 0 {
			out.Nodes = m.Nodes
		}
		if out.Config.Backend == "" {
			if c, err := configOf(m); err == nil {
				out.Config = c
			}
		}
	}
	out.Incomplete = incomplete(hf.Truncated, res)
	out.Analyzed = start.UTC().Format(time.RFC3339)
	out.Timings.CheckSeconds = report.Secs(time.Since(start))
	out.Files = report.Files{History: filepath.Base(path), WorkerLog: report.WorkerLogFile}
	if err := writeVisualization(res, filepath.Join(dir, report.VisualizationFile)); err == nil {
		out.Files.Visualization = report.VisualizationFile
	}
	out.Files.Page = report.PageFile
	if err := report.WriteJSON(filepath.Join(dir, report.ResultsFile), out); err != nil {
		return nil, err
	}
	if err := report.WriteRunPage(dir, out, hf); err != nil {
		return nil, err
	}
	return out, nil
}

// rejudge applies a stored scenario expectation to a new verdict, as the run itself judged it.
func rejudge(prev *report.ScenarioOutcome, res *checker.Result) *report.ScenarioOutcome {
	sc := &report.ScenarioOutcome{Name: prev.Name, File: prev.File, Expect: prev.Expect, Require: prev.Require, Error: prev.Error}
	met, missing := (&scenario.Scenario{Expect: prev.Expect, Require: prev.Require}).Judge(res)
	sc.Met, sc.Missing = sc.Error == "" && met, missing
	return sc
}

// incomplete says whether a run's history lacks part of its end: a cut-short last record, no final
// read, or what the checker found missing (a write log cut short or absent).
func incomplete(truncated bool, res *checker.Result) bool {
	return truncated || res.FinalValue == nil || res.Incomplete != ""
}

// firstMeta is the meta record a history starts with (the reader refuses one that does not).
func firstMeta(path string) (*history.Meta, error) {
	r, err := history.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	op, err := r.Next()
	if err != nil {
		return nil, err
	}
	return op.Meta, nil
}
