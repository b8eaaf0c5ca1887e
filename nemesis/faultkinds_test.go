package nemesis

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/cluster"
)

// TestEveryFaultKindIsWhole walks the list: every kind can be drawn, checked and built, and a
// drawn step is one its own Check accepts. A kind added with a piece missing fails here.
func TestEveryFaultKindIsWhole(t *testing.T) {
	seen := map[Kind]bool{}
	known := []string{OptDelta, OptMode, OptFrom, OptStrobe, OptRestart}
	for _, fk := range FaultKinds {
		if fk.Name == "" || seen[fk.Name] {
			t.Fatalf("fault kind %q: empty or listed twice", fk.Name)
		}
		seen[fk.Name] = true
		if fk.draw == nil || fk.build == nil {
			t.Errorf("%s: needs draw and build", fk.Name)
		}
		if got, err := Of(fk.Name); err != nil || got != fk {
			t.Errorf("Of(%s) = %v, %v", fk.Name, got, err)
		}
		for _, o := range fk.Options {
			if !slices.Contains(known, o) {
				t.Errorf("%s: unknown option %q", fk.Name, o)
			}
		}
		p := RandomParams{Nodes: []string{"n1", "n2", "n3", "n4", "n5"}, Clients: 3, TTL: 2 * time.Second}
		for seed := range uint64(50) {
			s := Step{Kind: fk.Name}
			if !fk.draw(rand.New(rand.NewPCG(seed, 1)), p, &s) {
				t.Fatalf("%s: nothing drawn with five nodes", fk.Name)
			}
			if err := fk.Check(s); err != nil {
				t.Fatalf("%s: a drawn step fails its own check: %v (%+v)", fk.Name, err, s)
			}
		}
	}
	if len(Kinds) != len(FaultKinds) {
		t.Errorf("Kinds has %d names for %d kinds", len(Kinds), len(FaultKinds))
	}
}

func TestCheckRefusesOptionsAKindDoesNotTake(t *testing.T) {
	for _, c := range []struct {
		s    Step
		want string
	}{
		{Step{Kind: Clock, Targets: []string{"n1"}, Mode: Reject}, "option mode does not apply"},
		{Step{Kind: Kill, Targets: []string{"n1"}, From: []string{"n2"}}, "option from does not apply"},
		{Step{Kind: PauseNode, Targets: []string{"n1"}, Delta: time.Second}, "takes no options"},
		{Step{Kind: Partition, Targets: []string{"n1"}, Mode: "sideways"}, "drops or rejects"},
		{Step{Kind: PauseClient, Targets: []string{"p1", "p2"}}, "want one client"},
		{Step{Kind: Partition, Targets: []string{"A:n1"}}, "want a node name"},
		{Step{Kind: Delay, Targets: []string{"holder:n1"}}, "CLIENT:node"},
		{Step{Kind: Kill}, "no targets"},
	} {
		fk, _ := Of(c.s.Kind)
		if err := fk.Check(c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.s, err, c.want)
		}
	}
	for _, s := range []Step{
		{Kind: Partition, Targets: []string{"n1", "n2"}, Mode: Reject, From: []string{"n3"}},
		{Kind: Clock, Targets: []string{"n1"}, Delta: 4 * time.Second, StrobePeriod: time.Second},
		{Kind: Kill, Targets: []string{"n3"}, RestartAtOnce: true},
		{Kind: Delay, Targets: []string{"A:storage", "n1"}, Delta: time.Second},
		{Kind: PauseClient, Targets: []string{"holder"}},
	} {
		fk, _ := Of(s.Kind)
		if err := fk.Check(s); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

func TestTargetsRoundTrip(t *testing.T) {
	ts, err := ParseTargets(AimLinks, []string{"n1", "p2:storage", "A:n3"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{{Node: "n1"}, {Client: "p2", Node: "storage"}, {Client: "A", Node: "n3"}}
	if !slices.Equal(ts, want) || strings.Join(WriteTargets(ts), " ") != "n1 p2:storage A:n3" {
		t.Errorf("parsed %+v, written %v", ts, WriteTargets(ts))
	}
	if p, err := (Target{Client: "p2"}).Process(); p != 2 || err != nil {
		t.Errorf("p2 is process %d (%v)", p, err)
	}
	if p, err := (Target{Client: "holder"}).Process(); p != Holder || err != nil {
		t.Errorf("holder is process %d (%v)", p, err)
	}
	if _, err := (Target{Client: "A"}).Process(); err == nil {
		t.Error("an unbound name resolved to a process")
	}
}

// Whether a fault can act on a backend is the kind's to say, with the reason.
func TestAppliesTo(t *testing.T) {
	for _, fk := range FaultKinds {
		ok, why := fk.AppliesTo(nil)
		if ok != (fk.Name == PauseClient) || (!ok && !strings.Contains(why, "no lock nodes")) {
			t.Errorf("%s on a backend without lock nodes: %v, %q", fk.Name, ok, why)
		}
	}
	clock, _ := Of(Clock)
	for _, k := range cluster.Kinds {
		ok, why := clock.AppliesTo(k)
		if ok != (k.NoClock == "") || (!ok && !strings.Contains(why, k.NoClock)) {
			t.Errorf("clock on %s: %v, %q", k, ok, why)
		}
	}
}

// A drawn cut takes one client off its lock nodes or off the storage, in either mode: both
// directions and both modes come up across seeds.
func TestCutDrawsBothSidesAndModes(t *testing.T) {
	fk, err := Of(Cut)
	if err != nil {
		t.Fatal(err)
	}
	p := RandomParams{Nodes: []string{"n1", "n2", "n3"}, Clients: 3, TTL: 2 * time.Second}
	seen := map[string]bool{}
	for seed := range uint64(50) {
		s := Step{Kind: Cut}
		if !fk.draw(rand.New(rand.NewPCG(seed, 1)), p, &s) || len(s.Targets) != 1 {
			t.Fatalf("seed %d: drew %+v, want one target", seed, s)
		}
		_, side, _ := strings.Cut(s.Targets[0], ":")
		seen[side] = true
		seen[string(s.Mode)] = true
	}
	for _, want := range []string{LockNodes, cluster.StorageName, string(Drop), string(Reject)} {
		if !seen[want] {
			t.Errorf("50 drawn cuts never had %q: saw %v", want, seen)
		}
	}
}
