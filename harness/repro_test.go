package harness_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/report"
)

func TestReproParams(t *testing.T) {
	dir := t.TempDir()
	stored := &report.Results{Result: &checker.Result{Valid: checker.Invalid}, Backend: "redis-single", Seed: 42,
		Params: report.Params{Clients: 4, Nodes: 5, TTL: "2s", TimeLimit: "30s", Fencing: "reads-writes", Persistence: "always",
			Faults: "pause-client,clock", FaultInterval: "3s", AcquireTimeout: "7s", StorageTimeout: "500ms"},
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
	os.WriteFile(filepath.Join(dir, report.ResultsFile), []byte(`{"backend":"redlock","params":{"ttl":"5x"}}`), 0o644)
	if _, _, err := harness.ReproParams(dir); err == nil {
		t.Error("a corrupt stored duration was accepted")
	}
}
