package scenario

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
	if s.TTL.D().Seconds() != 2 || s.Steps[1].Delta.D().Seconds() != 4 || !*s.Steps[0].Wait.Holding {
		t.Errorf("parsed %+v", s)
	}
}

func TestJudge(t *testing.T) {
	s := &Scenario{Expect: "invalid", Require: []string{"overlaps_within_validity"}}
	if met, missing := s.Judge(checker.Invalid, checker.Anomalies{Overlaps: 3}); met || len(missing) != 1 {
		t.Errorf("INVALID without the required anomaly must not count: met=%v missing=%v", met, missing)
	}
	if met, _ := s.Judge(checker.Invalid, checker.Anomalies{Overlaps: 1, OverlapsWithinValidity: 1}); !met {
		t.Error("expected verdict with the required anomaly not met")
	}
	if met, _ := s.Judge(checker.Valid, checker.Anomalies{}); met {
		t.Error("VALID met an invalid expectation")
	}
}

// fakeWorkers records the commands the player sends.
type fakeWorkers struct {
	mu   sync.Mutex
	sent []string
}

func (f *fakeWorkers) Send(p int, c workload.Command) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, string(c.Cmd)+":"+string(c.Hook)+":"+string(rune('0'+p)))
	return nil
}
func (f *fakeWorkers) Processes() int { return 3 }

// Waiting workers that do not match the armed trigger are let go at once; the one that matches
// is held; nobody is ever left waiting by accident.
func TestOnEventHoldsOnlyTheMatch(t *testing.T) {
	w := &fakeWorkers{}
	p := NewPlayer(&Scenario{}, nemesis.New(nil, nil), nemesis.Env{}, w, nil)
	yes := true
	a := &armedWait{t: Trigger{Hook: workload.AfterRead, Holding: &yes}, hold: true, fired: make(chan workload.Event, 1)}
	p.armed = a
	p.OnEvent(workload.Event{Kind: workload.EvHook, Hook: workload.AfterRead, Process: 1, Waiting: true, Holding: false})
	p.OnEvent(workload.Event{Kind: workload.EvHook, Hook: workload.BeforeWrite, Process: 2, Waiting: true, Holding: true})
	p.OnEvent(workload.Event{Kind: workload.EvHook, Hook: workload.AfterRead, Process: 0, Waiting: true, Holding: true})
	p.OnEvent(workload.Event{Kind: workload.EvHook, Hook: workload.AfterRead, Process: 2, Waiting: true, Holding: true})
	select {
	case e := <-a.fired:
		if e.Process != 0 {
			t.Errorf("fired for process %d, want 0", e.Process)
		}
	default:
		t.Fatal("trigger did not fire")
	}
	got := strings.Join(w.sent, " ")
	if got != "continue:after-read:1 continue:before-write:2 continue:after-read:2" {
		t.Errorf("sent %q: want every non-matching waiter continued and process 0 held", got)
	}
}
