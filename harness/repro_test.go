package harness_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/report"
)

func TestReproParams(t *testing.T) {
	dir := t.TempDir()
	stored := &report.Results{Result: &checker.Result{Valid: checker.Invalid}, Backend: "redis-single", Seed: 42,
		Config: config.Run{Backend: "redis-single", Seed: 42, Clients: 4, Nodes: 1, TTL: 2 * time.Second, TimeLimit: 30 * time.Second,
			Fencing: "reads-writes", Persistence: "always", Faults: []nemesis.Kind{nemesis.PauseClient, nemesis.Clock},
			FaultInterval: 3 * time.Second, AcquireTimeout: 7 * time.Second, StorageTimeout: 500 * time.Millisecond,
			ScenarioFile: "../scenarios/k1-pause-holder.yaml"},
		Scenario: &report.ScenarioOutcome{Name: "K1", File: "../scenarios/k1-pause-holder.yaml"}}
	if err := report.WriteJSON(filepath.Join(dir, report.ResultsFile), stored); err != nil {
		t.Fatal(err)
	}
	p, orig, err := harness.ReproParams(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Backend != "redis-single" || p.Seed != 42 || p.Clients != 4 || p.TTL != 2*time.Second || p.TimeLimit != 30*time.Second ||
		p.FaultInterval != 3*time.Second || p.AcquireTimeout != 7*time.Second || p.StorageTimeout != 500*time.Millisecond ||
		p.Fencing != "reads-writes" || p.Persistence != "always" || len(p.Faults) != 2 || p.Faults[1] != nemesis.Clock {
		t.Errorf("params %+v", p)
	}
	if p.Scenario == nil || p.Scenario.Name != "K1" || orig.Valid != checker.Invalid {
		t.Errorf("scenario %v, original verdict %v", p.Scenario, orig.Valid)
	}
	if _, _, err := harness.ReproParams(t.TempDir()); err == nil {
		t.Error("a directory without results.json was accepted")
	}
	os.WriteFile(filepath.Join(dir, report.ResultsFile), []byte(`{"backend":"redlock","config":{"backend":"redlock","ttl":"5x"}}`), 0o644)
	if _, _, err := harness.ReproParams(dir); err == nil {
		t.Error("a corrupt stored duration was accepted")
	}
}

// A results.json from before the run configuration was recorded: the history's meta record
// (format 2 has backend, sizes, TTL, seed, fencing) gives what it can, the rest its defaults.
func TestReproParamsFromAnOlderRun(t *testing.T) {
	dir := t.TempDir()
	unpackFixture(t, "../checker/testdata/k1f.jsonl.gz", filepath.Join(dir, report.LegacyHistoryFile))
	os.WriteFile(filepath.Join(dir, report.ResultsFile), []byte(`{"backend":"redis-single","params":{"ttl":"2s"}}`), 0o644)
	p, _, err := harness.ReproParams(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Backend != "redis-single" || p.Fencing != "reads-writes" || p.TTL != 2*time.Second || p.StorageTimeout != time.Second {
		t.Errorf("params from a format 2 history: %+v", p.Run)
	}
}

// results.json of an older locktest has no configuration: the history's meta record gives it, and
// a run dir with neither is refused.
func TestReproParamsFromHistoryMeta(t *testing.T) {
	dir := t.TempDir()
	old := `{"valid": true, "backend": "redlock", "seed": 7}` // no "config": written before it existed
	if err := os.WriteFile(filepath.Join(dir, report.ResultsFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := harness.ReproParams(dir); err == nil {
		t.Fatal("no configuration and no history: accepted")
	}
	w, err := history.Create(filepath.Join(dir, report.HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	meta := history.Meta{Format: history.FormatVersion, Backend: "redlock", Clients: 3, Nodes: 5, TTLMs: 2000, Seed: 7}
	if err := w.Append(history.Op{Time: 1, Process: history.HarnessProcess, F: history.RunMeta, Meta: &meta}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p, _, err := harness.ReproParams(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Backend != "redlock" || p.Clients != 3 || p.Seed != 7 || p.TTL != 2*time.Second {
		t.Errorf("params from the meta record: %+v", p.Run)
	}
}
