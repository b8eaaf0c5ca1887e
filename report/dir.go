// Package report writes what a run leaves behind: its results directory, results.json, and the
// results/latest link, and prints the summary people read.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names inside a run directory.
const (
	// HistoryFile is the run's history in the binary format of package history ("locktest
	// history"); locktest export --jsonl prints it as JSON lines.
	HistoryFile = "history.lkh"
	// LegacyHistoryFile is where runs of earlier versions kept their history, as JSON lines. It is
	// still read wherever a run's history is (see HistoryPath).
	LegacyHistoryFile = "history.jsonl"
	ResultsFile       = "results.json"
	VisualizationFile = "linearizability.html"
	WorkerLogFile     = "workers.log"
	ScheduleFile      = "schedule.json"
	// ExploredFile is the schedule an exploration profile drew, as a scenario file.
	ExploredFile = "explored.yaml"
	LatestLink   = "latest"
)

// HistoryPath returns the path of the history of the run in dir: its HistoryFile, or the
// LegacyHistoryFile of a run of an earlier version; "" when it has neither.
func HistoryPath(dir string) string {
	for _, name := range []string{HistoryFile, LegacyHistoryFile} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// NewRunDir creates base/<name>/<timestamp>/ and returns its path. The timestamp has millisecond
// precision so two quick runs do not collide; a collision still gets a fresh directory.
func NewRunDir(base, name string, start time.Time) (string, error) {
	stamp := start.Format("20060102T150405.000")
	for i := 0; ; i++ {
		dir := filepath.Join(base, name, stamp)
		if i > 0 {
			dir = fmt.Sprintf("%s-%d", dir, i)
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return "", fmt.Errorf("create results directory: %w", err)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !os.IsExist(err) {
			return "", fmt.Errorf("create results directory: %w", err)
		}
	}
}

// PointLatest makes base/latest a relative symlink to dir, replacing the previous link atomically.
func PointLatest(base, dir string) error {
	rel, err := filepath.Rel(base, dir)
	if err != nil {
		return err
	}
	link := filepath.Join(base, LatestLink)
	tmp := link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return fmt.Errorf("link latest results: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("link latest results: %w", err)
	}
	return nil
}

// WriteJSON writes v as indented JSON to path, via a temporary file so a reader never sees half.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
