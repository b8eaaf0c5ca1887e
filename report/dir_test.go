package report

import (
	"os"
	"path/filepath"
	"testing"
)

// A run's history is found under the new name first, then under the name earlier versions used.
func TestHistoryPath(t *testing.T) {
	dir := t.TempDir()
	if got := HistoryPath(dir); got != "" {
		t.Errorf("no history: %q", got)
	}
	os.WriteFile(filepath.Join(dir, LegacyHistoryFile), nil, 0o644)
	if got := HistoryPath(dir); got != filepath.Join(dir, LegacyHistoryFile) {
		t.Errorf("an older run's history: %q", got)
	}
	os.WriteFile(filepath.Join(dir, HistoryFile), nil, 0o644)
	if got := HistoryPath(dir); got != filepath.Join(dir, HistoryFile) {
		t.Errorf("both: %q, want the binary one", got)
	}
}
