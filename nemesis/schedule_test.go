package nemesis

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/cluster"
)

func TestRandomScheduleIsSeeded(t *testing.T) {
	p := RandomParams{Seed: 42, Kinds: Kinds, Interval: 3 * time.Second, Until: 60 * time.Second,
		Nodes: []string{"n1", "n2", "n3", "n4", "n5"}, Clients: 3, TTL: 2 * time.Second}
	a, b := RandomSchedule(p), RandomSchedule(p)
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed gave different schedules:\n%v\n%v", a, b)
	}
	p.Seed = 43
	if reflect.DeepEqual(a, RandomSchedule(p)) {
		t.Error("seeds 42 and 43 gave the same schedule")
	}
	kinds := map[Kind]bool{}
	for i, s := range a {
		kinds[s.Kind] = true
		if s.At+s.Duration > p.Until {
			t.Errorf("step %d (%v) ends after %v: no time left to recover", i, s, p.Until)
		}
		if i > 0 && s.At < a[i-1].At+a[i-1].Duration {
			t.Errorf("step %d starts before step %d is healed: faults come one at a time", i, i-1)
		}
		for _, tg := range s.Targets {
			switch s.Kind {
			case PauseClient:
			case Cut: // one client's paths to every lock node, or to the storage
				if proc, node, _ := strings.Cut(tg, ":"); (node != LockNodes && node != cluster.StorageName) || !strings.HasPrefix(proc, "p") {
					t.Errorf("step %v targets %q, want pN:lock or pN:storage", s, tg)
				}
			default:
				if !slices.Contains(p.Nodes, tg) {
					t.Errorf("step %v targets unknown node %q", s, tg)
				}
			}
		}
		if s.Kind == Clock && s.Delta <= p.TTL {
			t.Errorf("clock step %v shifts by no more than a TTL: it would not expire a lease", s)
		}
	}
	if len(kinds) < 4 {
		t.Errorf("60s of 3s faults drawn from 6 kinds used only %v", kinds)
	}
}

func TestRandomScheduleEdges(t *testing.T) {
	if s := RandomSchedule(RandomParams{Seed: 1, Interval: time.Second, Until: time.Minute}); s != nil {
		t.Errorf("no kinds gave %v", s)
	}
	// nolock has no lock nodes: node faults are skipped, client pauses remain.
	s := RandomSchedule(RandomParams{Seed: 1, Kinds: []Kind{PauseNode, PauseClient}, Interval: time.Second, Until: 30 * time.Second})
	for _, st := range s {
		if st.Kind != PauseClient {
			t.Errorf("node fault %v scheduled without nodes", st)
		}
	}
	// Too short a run for one fault and its recovery.
	if s := RandomSchedule(RandomParams{Seed: 1, Kinds: Kinds, Interval: 5 * time.Second, Until: 9 * time.Second, Nodes: []string{"n1"}}); len(s) != 0 {
		t.Errorf("9s with 5s faults gave %v", s)
	}
}

func TestParseKinds(t *testing.T) {
	for in, want := range map[string][]Kind{
		"":                   nil,
		"none":               nil,
		"all":                Kinds,
		"clock,pause-client": {Clock, PauseClient},
		"clock, clock":       {Clock},
	} {
		got, err := ParseKinds(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseKinds(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseKinds("clock,meteor"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestPartitionSize(t *testing.T) {
	for n := 1; n <= 7; n++ {
		for range 50 {
			s := partitionSize(newTestRand(), n)
			if s < 1 || s > n {
				t.Fatalf("partition of %d nodes has size %d", n, s)
			}
		}
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1)) }
