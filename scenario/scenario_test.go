package scenario

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/workload"
)

// Every shipped scenario must parse and validate.
func TestShippedScenariosParse(t *testing.T) {
	files, err := filepath.Glob("../scenarios/*.yaml")
	if err != nil || len(files) < 6 {
		t.Fatalf("found %d scenario files (%v), want at least 6", len(files), err)
	}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if s.Name == "" || s.Expect == "" || s.Description == "" {
			t.Errorf("%s: name, expect and description are required of shipped scenarios", f)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := map[string]string{
		"unknown key":      "name: x\nexpect: invalid\nsteps:\n  - sleep: 1s\n    typo: 1\n",
		"bad duration":     "name: x\nsteps:\n  - sleep: 1x\n",
		"two actions":      "name: x\nsteps:\n  - sleep: 1s\n    heal: all\n",
		"unknown hook":     "name: x\nsteps:\n  - wait: {hook: after-lunch}\n",
		"unbound release":  "name: x\nsteps:\n  - release: A\n",
		"unbound process":  "name: x\nsteps:\n  - wait: {hook: after-read, process: B}\n",
		"unknown fault":    "name: x\nsteps:\n  - fault: meteor\n    targets: [n1]\n",
		"fault no targets": "name: x\nsteps:\n  - fault: clock\n",
		"bad expect":       "name: x\nexpect: maybe\nsteps:\n  - sleep: 1s\n",
		"bad require":      "name: x\nrequire: [nope]\nsteps:\n  - sleep: 1s\n",
		"mode on clock":    "name: x\nsteps:\n  - fault: clock\n    targets: [n1]\n    mode: reject\n",
		"no steps":         "name: x\n",
		"empty client_cmd": "name: x\nclient_cmd: ' '\nsteps:\n  - sleep: 1s\n",
	}
	for name, in := range tests {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s, err := Parse([]byte("name: ok\nttl: 2s\nsteps:\n  - wait: {hook: after-read, holding: true}\n    as: A\n    hold: true\n  - fault: clock\n    targets: [n3]\n    delta: +4s\n  - release: A\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.TTL.D().Seconds() != 2 || s.Steps[1].Delta.Seconds() != 4 || !*s.Steps[0].Wait.Holding {
		t.Errorf("parsed %+v", s)
	}
}

func TestJudge(t *testing.T) {
	s := &Scenario{Expect: "invalid", Require: []string{"overlaps_within_validity"}}
	if met, missing := s.Judge(&checker.Result{Valid: checker.Invalid, Anomalies: checker.Anomalies{Overlaps: 3}}); met || len(missing) != 1 {
		t.Errorf("INVALID without the required anomaly must not count: met=%v missing=%v", met, missing)
	}
	if met, _ := s.Judge(&checker.Result{Valid: checker.Invalid, Anomalies: checker.Anomalies{Overlaps: 1, OverlapsWithinValidity: 1}}); !met {
		t.Error("expected verdict with the required anomaly not met")
	}
	if met, _ := s.Judge(&checker.Result{Valid: checker.Valid}); met {
		t.Error("VALID met an invalid expectation")
	}
}

// fakeWorkers hands out scripted hook arrivals and records what the player lets go.
type fakeWorkers struct {
	mu        sync.Mutex
	arrivals  []workload.Event
	continued []string
}

func (f *fakeWorkers) CatchAfter(ctx context.Context, hook workload.Hook, match func(workload.Event) bool, armed func()) (workload.Event, error) {
	if armed != nil {
		armed()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.arrivals {
		if e.Hook == hook && match(e) {
			return e, nil
		}
	}
	return workload.Event{}, context.DeadlineExceeded
}

func (f *fakeWorkers) Continue(p int, h workload.Hook) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.continued = append(f.continued, fmt.Sprintf("p%d@%s", p, h))
	return nil
}

// A scenario binds the client its wait matched, holds it, tells another one apart with "!A",
// releases the held one, and fails clearly when nothing matches.
func TestPlayerBindsHoldsAndReleases(t *testing.T) {
	w := &fakeWorkers{arrivals: []workload.Event{
		{Hook: workload.AfterRead, Process: 1, Holding: false},
		{Hook: workload.AfterRead, Process: 2, Holding: true},
		{Hook: workload.AfterWrite, Process: 2},
		{Hook: workload.AfterWrite, Process: 0},
	}}
	s, err := Parse([]byte(`name: t
steps:
  - wait: {hook: after-read, holding: true}
    as: A
    hold: true
  - wait: {hook: after-write, process: "!A"}
  - release: A
`))
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlayer(s, nemesis.New(nil, nil), nemesis.Env{}, w, nil)
	if err := p.Play(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.continued, " "); got != "p0@after-write p2@after-read" {
		t.Errorf("continued %q: want p0 let go after its match (not held) and A=p2 released", got)
	}
	if p.bound["A"] != 2 {
		t.Errorf("A bound to p%d, want p2", p.bound["A"])
	}

	s, _ = Parse([]byte("name: t\nsteps:\n  - wait: {hook: before-acquire, timeout: 10ms}\n"))
	err = NewPlayer(s, nemesis.New(nil, nil), nemesis.Env{}, w, nil).Play(context.Background(), time.Now())
	if err == nil || !strings.Contains(err.Error(), "no client reached before-acquire") {
		t.Errorf("unmatched wait: %v", err)
	}
}

// A trigger with in_lease matches only a holder still inside its lease's validity.
func TestTriggerInLease(t *testing.T) {
	yes, no := true, false
	p := NewPlayer(&Scenario{}, nil, nemesis.Env{}, nil, nil)
	fresh := workload.Event{Hook: workload.AfterRead, Process: 1, Holding: true, InLease: true}
	stale := workload.Event{Hook: workload.AfterRead, Process: 1, Holding: true}
	if !p.matches(Trigger{Holding: &yes, InLease: &yes}, fresh) || p.matches(Trigger{Holding: &yes, InLease: &yes}, stale) {
		t.Error("in_lease: true must match a holder inside its lease and only that")
	}
	if !p.matches(Trigger{InLease: &no}, stale) || !p.matches(Trigger{Holding: &yes}, stale) {
		t.Error("in_lease: false, or no in_lease, must match a holder past its lease")
	}
}

// release with hold_at lets a held client go only once the catch at hold_at is in force, and then
// holds it there: the next release continues it from that hook.
func TestReleaseHoldAt(t *testing.T) {
	w := &fakeWorkers{arrivals: []workload.Event{
		{Hook: workload.AfterRead, Process: 1, Holding: true},
		{Hook: workload.AfterWrite, Process: 1},
	}}
	s, err := Parse([]byte(`name: t
steps:
  - wait: {hook: after-read, holding: true}
    as: A
    hold: true
  - release: A
    hold_at: after-write
  - release: A
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := NewPlayer(s, nemesis.New(nil, nil), nemesis.Env{}, w, nil).Play(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.continued, " "); got != "p1@after-read p1@after-write" {
		t.Errorf("continued %q: want A let go from after-read, then from after-write where it was held again", got)
	}
	if _, err := Parse([]byte("name: t\nsteps:\n  - sleep: 1s\n    hold_at: after-write\n")); err == nil {
		t.Error("hold_at without release accepted")
	}
}

// require_stall is met by a long enough stretch without acknowledged increments, and named when
// the run had none.
func TestJudgeStall(t *testing.T) {
	s, err := Parse([]byte("name: t\nexpect: valid\nrequire_stall: 5s\nsteps:\n  - sleep: 1s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if met, missing := s.Judge(&checker.Result{Valid: checker.Valid, Liveness: checker.Liveness{LongestStallS: 1.5}}); met || len(missing) != 1 || !strings.Contains(missing[0], "stall of 5s") {
		t.Errorf("a 1.5s stall: met=%v missing=%q, want not met, the stall named", met, missing)
	}
	if met, _ := s.Judge(&checker.Result{Valid: checker.Valid, Liveness: checker.Liveness{LongestStallS: 6}}); !met {
		t.Error("a 6s stall does not meet require_stall: 5s")
	}
	if _, err := Parse([]byte("name: t\nrequire_stall: -1s\nsteps:\n  - sleep: 1s\n")); err == nil {
		t.Error("negative require_stall accepted")
	}
}
