package explore

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/scenario"
)

var redlock = Env{Nodes: []string{"n1", "n2", "n3", "n4", "n5"}, Kind: cluster.KindRedis, TTL: 2 * time.Second, Until: 60 * time.Second}

// The same seed draws the same schedule, another seed another one; what is drawn is a scenario
// the scenario parser accepts, and it survives being written out and read back (explored.yaml).
func TestDrawIsSeededAndPlayable(t *testing.T) {
	p, err := Of("kleppmann")
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := p.Draw(7, redlock), p.Draw(7, redlock), p.Draw(8, redlock)
	if a == nil || !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed drew different schedules")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("seeds 7 and 8 drew the same schedule")
	}
	for seed := range int64(30) {
		sc := p.Draw(seed, redlock)
		text, err := yaml.Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		back, err := scenario.Parse(text)
		if err != nil {
			t.Fatalf("seed %d: the drawn schedule does not parse: %v\n%s", seed, err, text)
		}
		if !back.KeepGoing || len(back.Steps) != len(sc.Steps) {
			t.Fatalf("seed %d: %d steps read back of %d (keep_going %v)", seed, len(back.Steps), len(sc.Steps), back.KeepGoing)
		}
	}
}

// Rounds fit the run, and over many seeds every applicable move is drawn.
func TestDrawCoversTheMoves(t *testing.T) {
	p, _ := Of("kleppmann")
	seen := map[string]bool{}
	for seed := range int64(40) {
		sc := p.Draw(seed, redlock)
		text, _ := yaml.Marshal(sc)
		for _, st := range sc.Steps {
			switch {
			case st.Kind == "clock":
				seen["clock-majority"] = true
			case st.Kind == "kill":
				seen["crash-majority"] = true
			case st.Kind == "delay":
				seen["delayed-write"] = true
			case st.Kind == "cut":
				seen["delayed-write (cut)"] = true
			}
		}
		if !strings.Contains(string(text), "hold: true") {
			t.Errorf("seed %d: no holder is caught:\n%s", seed, text)
		}
	}
	for _, m := range []string{"clock-majority", "crash-majority", "delayed-write", "delayed-write (cut)"} {
		if !seen[m] {
			t.Errorf("move %s never drawn for Redlock", m)
		}
	}
}

// A move that cannot act on a backend is not drawn, and says why.
func TestApplicable(t *testing.T) {
	p, _ := Of("kleppmann")
	etcd := Env{Nodes: []string{"n1", "n2", "n3"}, Kind: cluster.KindEtcd, SessionLease: true, TTL: 2 * time.Second, Until: time.Minute}
	moves, why := p.Applicable(etcd)
	names := []string{}
	for _, m := range moves {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "crash-majority,delayed-write,holder-cut-off" || len(why) != 2 {
		t.Errorf("etcd: moves %v, not applicable %v", names, why)
	}
	sentinel := Env{Nodes: []string{"n1", "n2"}, Kind: cluster.KindSentinel, TTL: 12 * time.Second, Until: time.Minute}
	if moves, _ = p.Applicable(sentinel); len(moves) != 4 {
		t.Errorf("sentinel: %d moves, want all 4", len(moves))
	}
	single := Env{Nodes: []string{"n1"}, Kind: cluster.KindRedis, TTL: 2 * time.Second, Until: time.Minute}
	if moves, _ = p.Applicable(single); len(moves) != 3 {
		t.Errorf("redis-single: %d moves, want clock, crash and delayed write", len(moves))
	}
	sc := p.Draw(2, single)
	text, _ := yaml.Marshal(sc)
	if strings.Contains(string(text), "partition") {
		t.Errorf("a single node is cut off from the clients:\n%s", text)
	}
	// A run too short for any round (a 12 s matrix cell) still gets one: a cell whose run
	// injects nothing would say nothing.
	for seed := range int64(20) {
		if sc := p.Draw(seed, Env{Nodes: []string{"n1"}, Kind: cluster.KindRedis, TTL: 2 * time.Second, Until: 3 * time.Second}); sc == nil || len(sc.Steps) == 0 {
			t.Fatalf("seed %d: nothing drawn for a short run", seed)
		}
	}
	if _, err := Of("nope"); err == nil || !strings.Contains(err.Error(), "kleppmann") {
		t.Errorf("unknown profile: %v", err)
	}
}

// A session lease ends behind a live holder only when the servers stop hearing from it: the
// holder-cut-off round catches a holder, cuts it off from every lock node (not from the
// storage) for longer than its session, and lets it go while the cut lasts. Leases that run down
// on their own never get the round, so their seeds draw what they drew before it existed.
func TestHolderCutOff(t *testing.T) {
	p, _ := Of("kleppmann")
	zk := Env{Nodes: []string{"n1", "n2", "n3"}, Kind: cluster.KindZooKeeper, SessionLease: true, TTL: 2 * time.Second, Until: time.Minute}
	rounds := 0
	for seed := range int64(20) {
		steps := p.Draw(seed, zk).Steps
		for i, st := range steps {
			if st.Kind != "cut" || !strings.HasSuffix(st.Targets[0], ":lock") {
				continue
			}
			rounds++
			a := strings.TrimSuffix(st.Targets[0], ":lock")
			if i == 0 || steps[i-1].As != a || !steps[i-1].Hold {
				t.Fatalf("seed %d: the cut of %s does not follow its catch: %+v", seed, a, steps[i-1])
			}
			if sl := steps[i+1].Sleep; sl == nil || sl.D() < zk.TTL*3/2 || steps[i+2].Release != a {
				t.Fatalf("seed %d: %s is not let go after more than its session while cut off: %+v, %+v", seed, a, steps[i+1], steps[i+2])
			}
			if steps[i+4].Heal != st.Name {
				t.Fatalf("seed %d: the cut is not healed after the holder went on: %+v", seed, steps[i+4])
			}
		}
	}
	if rounds == 0 {
		t.Fatal("no holder-cut-off round in 20 ZooKeeper schedules")
	}
	for _, e := range []Env{redlock, {Nodes: []string{"n1"}, Kind: cluster.KindRedis, TTL: 2 * time.Second, Until: time.Minute}} {
		moves, _ := p.Applicable(e)
		for _, m := range moves {
			if m == holderCutOff {
				t.Errorf("%s with %d nodes: holder-cut-off applies to a lease that runs down on its own", e.Kind, len(e.Nodes))
			}
		}
	}
}
