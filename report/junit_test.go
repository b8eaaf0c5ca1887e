package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/nemesis"
)

func TestJUnit(t *testing.T) {
	invalid := &Results{Result: &checker.Result{Valid: checker.Invalid, Anomalies: checker.Anomalies{LostUpdates: 3},
		Examples: []checker.Example{{Kind: "lost_updates", Text: "3 lost"}}}}
	valid := &Results{Result: &checker.Result{Valid: checker.Valid}}
	expected := &Results{Result: &checker.Result{Valid: checker.Invalid, Anomalies: checker.Anomalies{Overlaps: 1}},
		Scenario: &ScenarioOutcome{Name: "K1", Expect: "invalid", Met: true}}
	unmet := &Results{Result: &checker.Result{Valid: checker.Valid},
		Scenario: &ScenarioOutcome{Name: "K3", Expect: "invalid", Require: []string{"overlaps_within_validity"}}}
	cases := []JUnitCase{
		JUnitFromResults(invalid, "locktest.redlock", "a"),
		JUnitFromResults(valid, "locktest.redlock", "b"),
		JUnitFromResults(expected, "locktest.scenario", "K1"),
		JUnitFromResults(unmet, "locktest.scenario", "K3"),
		JUnitFromResults(&Results{Result: &checker.Result{Valid: checker.Unknown}}, "locktest", "c"),
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := WriteJUnit(path, "locktest", cases); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var got junitSuites
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b)
	}
	s := got.Suites[0]
	if s.Tests != 5 || s.Failures != 2 || s.Errors != 1 {
		t.Errorf("tests=%d failures=%d errors=%d, want 5, 2, 1:\n%s", s.Tests, s.Failures, s.Errors, b)
	}
	if f := s.Cases[0].Failure; f == nil || !strings.Contains(f.Message, "lost_updates=3") || !strings.Contains(f.Text, "3 lost") {
		t.Errorf("invalid run's failure %+v should name the anomaly and its example", f)
	}
	if s.Cases[2].Failure != nil || s.Cases[2].Error != nil {
		t.Error("a scenario that met its expectation failed")
	}
	if f := s.Cases[3].Failure; f == nil || !strings.Contains(f.Message, "expected invalid") {
		t.Errorf("unmet scenario: %+v", f)
	}
}

func TestSummarySaysWhetherFaultsTookEffect(t *testing.T) {
	var b strings.Builder
	r := &Results{Result: &checker.Result{Valid: checker.Valid, Faults: []checker.FaultWindow{{Kind: "clock", Outcome: "failed"}}},
		Config: config.Run{Faults: []nemesis.Kind{nemesis.Clock}}}
	PrintSummary(&b, r, "d")
	if !strings.Contains(b.String(), "faults: 0 took effect, 1 failed to inject (a VALID verdict here says nothing about faults)") {
		t.Errorf("summary:\n%s", b.String())
	}
}
