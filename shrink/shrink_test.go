package shrink

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/scenario"
)

const drawn = `name: explore-kleppmann
keep_going: true
steps:
  - sleep: 1s
  - fault: partition
    targets: [n4]
    mode: reject
    name: R1-cut
  - sleep: 2s
  - wait: {hook: after-read, holding: true, timeout: 6s}
    as: R1
    hold: true
  - fault: clock
    targets: [n2]
    delta: 4s
    name: R1-jump
  - heal: R1-cut
  - release: R1
  - heal: R1-jump
  - sleep: 800ms
  - wait: {hook: before-write, holding: true, timeout: 6s}
    as: R2
    hold: true
  - fault: delay
    targets: ["R2:storage"]
    delta: 3s
    name: R2-slow
  - release: R2
  - sleep: 4s
  - heal: R2-slow
`

func TestRoundsGroupADrawnSchedule(t *testing.T) {
	sc, err := scenario.Parse([]byte(drawn))
	if err != nil {
		t.Fatal(err)
	}
	rs := rounds(sc.Steps)
	if len(rs) != 2 || len(rs[0]) != 8 || len(rs[1]) != 6 {
		t.Fatalf("rounds of %d and %d steps, want 8 and 6: %+v", len(rs[0]), len(rs[1]), rs)
	}
	if rs[1][0].Sleep == nil || rs[1][0].Sleep.D() != 800*time.Millisecond {
		t.Error("the gap before round 2 is not its first step")
	}
}

// With a fake runner in which only the delayed write breaks the lock, and only with at least 2 s
// of sleep after the release, shrinking keeps round 2 alone and halves its sleep once.
func TestShrinkKeepsWhatBreaksIt(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, report.ExploredFile), []byte(drawn), 0o644)
	run := config.Default()
	run.Backend, run.Profile, run.Seed = "redlock", "kleppmann", 5
	orig := &report.Results{Result: &checker.Result{Valid: checker.Invalid, Anomalies: checker.Anomalies{LostUpdates: 1, StaleWrites: 1}},
		Backend: "redlock", RunID: "r1", Config: run}
	if err := report.WriteJSON(filepath.Join(dir, report.ResultsFile), orig); err != nil {
		t.Fatal(err)
	}
	runs, firstSteps := 0, 0
	runTest = func(_ context.Context, p harness.Params) (*harness.Outcome, error) {
		runs++
		if runs == 1 {
			firstSteps = len(p.Scenario.Steps)
		}
		breaks := false
		for i, st := range p.Scenario.Steps {
			if st.Kind == "delay" && i+2 < len(p.Scenario.Steps) {
				if sl := p.Scenario.Steps[i+2].Sleep; sl != nil && sl.D() >= 2*time.Second {
					breaks = true
				}
			}
		}
		res := &checker.Result{Valid: checker.Valid}
		if breaks {
			res = &checker.Result{Valid: checker.Invalid, Anomalies: checker.Anomalies{LostUpdates: 1}}
		}
		met, _ := p.Scenario.Judge(res)
		return &harness.Outcome{Results: &report.Results{Result: res, Scenario: &report.ScenarioOutcome{Met: met}}}, nil
	}
	defer func() { runTest = harness.Test }()
	var log strings.Builder
	out, err := Shrink(context.Background(), dir, Options{Confirm: 3, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if out.Anomaly != "lost_updates" || out.Units != 2 || out.Kept != 1 || out.Confirmed != 3 {
		t.Errorf("outcome %+v\n%s", out, log.String())
	}
	text, _ := os.ReadFile(out.File)
	// The schedule as it stands reproduces every time: the lease is not made longer.
	for _, want := range []string{"expect: invalid", "- lost_updates", "fault: delay", "sleep: 2s", "backend: redlock", "ttl: 5s"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("shrunk.yaml lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(string(text), "clock") || strings.Contains(string(text), "keep_going") {
		t.Errorf("shrunk.yaml kept the clock round or keep_going:\n%s", text)
	}
	// Parts are removed before any is made certain: a change is tried by playing the whole
	// schedule, and an explored minute has a dozen rounds to make certain.
	if firstSteps >= 14 {
		t.Errorf("the first re-run played all %d steps: nothing was removed first\n%s", firstSteps, log.String())
	}
	if out.Reruns+out.Confirm != runs {
		t.Errorf("%d re-runs reported, %d made", out.Reruns+out.Confirm, runs)
	}
}

func TestShrinkRefusesAValidRun(t *testing.T) {
	dir := t.TempDir()
	report.WriteJSON(filepath.Join(dir, report.ResultsFile), &report.Results{Result: &checker.Result{Valid: checker.Valid}, Backend: "redlock", Config: config.Default()})
	if _, err := Shrink(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "INVALID") {
		t.Errorf("a valid run: %v", err)
	}
}

// A round that lets its holder go after a timed pause is made certain: the holder goes once
// another client wrote, when that still breaks the lock.
func TestShrinkMakesTheReleaseWaitForAWrite(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, report.ExploredFile), []byte(`name: x
keep_going: true
steps:
  - wait: {hook: after-read, holding: true}
    as: R1
    hold: true
  - fault: kill
    targets: [n2]
    restart_at_once: true
    name: R1-crash
  - sleep: 700ms
  - release: R1
  - heal: R1-crash
`), 0o644)
	run := config.Default()
	report.WriteJSON(filepath.Join(dir, report.ResultsFile), &report.Results{Result: &checker.Result{Valid: checker.Invalid,
		Anomalies: checker.Anomalies{OverlapsWithinValidity: 1, Overlaps: 1}}, Backend: "redlock", Config: run})
	runTest = func(_ context.Context, p harness.Params) (*harness.Outcome, error) {
		res := &checker.Result{Valid: checker.Valid}
		for _, st := range p.Scenario.Steps {
			if st.Wait != nil && st.Wait.Hook == "after-write" && st.Wait.Process == "!R1" {
				res = &checker.Result{Valid: checker.Invalid, Anomalies: checker.Anomalies{OverlapsWithinValidity: 1}}
			}
		}
		met, _ := p.Scenario.Judge(res)
		return &harness.Outcome{Results: &report.Results{Result: res, Scenario: &report.ScenarioOutcome{Met: met}}}, nil
	}
	defer func() { runTest = harness.Test }()
	out, err := Shrink(context.Background(), dir, Options{Confirm: 2})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(out.File)
	if out.Confirmed != 2 || !strings.Contains(string(text), `process: '!R1'`) || strings.Contains(string(text), "700ms") {
		t.Errorf("confirmed %d/2:\n%s", out.Confirmed, text)
	}
}
