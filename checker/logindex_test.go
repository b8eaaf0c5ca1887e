package checker

import (
	"fmt"
	"slices"
	"testing"

	"github.com/locktest/locktest/history"
)

// The compact index finds, for every increment of every simulated run, the entry a plain map of
// the log finds (the first of an id), and lists the same repeated entries.
func TestLogIndexMatchesMap(t *testing.T) {
	for seed := uint64(1); seed <= 1000; seed++ {
		sr := simulate(seed)
		x := newLogIndex()
		first := map[string]int32{}
		var values []int64
		var dups []int32
		for _, op := range sr.ops {
			if op.F != history.WriteLog {
				continue
			}
			e := int32(len(values))
			x.add(op.ID, *op.Value)
			values = append(values, *op.Value)
			if _, ok := first[op.ID]; ok {
				dups = append(dups, e)
			} else {
				first[op.ID] = e
			}
		}
		x.seal()
		tag := fmt.Sprintf("seed %d (%s)", seed, sr.mode)
		for _, op := range sr.ops {
			if op.F != history.Incr || op.Type != history.Invoke {
				continue
			}
			want, ok := first[op.ID]
			if !ok {
				want = -1
			}
			if got := x.find(op.ID); got != want {
				t.Fatalf("%s: entry of %s = %d, want %d", tag, op.ID, got, want)
			}
			if want >= 0 && x.value(want) != values[want] {
				t.Fatalf("%s: value of entry %d = %d, want %d", tag, want, x.value(want), values[want])
			}
		}
		if !slices.Equal(x.dups, dups) {
			t.Fatalf("%s: repeated entries %v, want %v", tag, x.dups, dups)
		}
	}
}

// Ids of other shapes, numbers past 32 bits, repeats of both kinds and late entries out of a
// process's order are all found, the first entry of a repeated id winning.
func TestLogIndexOddIds(t *testing.T) {
	x := newLogIndex()
	ids := []string{"p1-2", "p1-1", "weird", "p1-2", "p0-4294967296", "weird", "p01-3", "p1-3"}
	for i, id := range ids {
		x.add(id, int64(i+10))
	}
	x.seal()
	for id, want := range map[string]int32{"p1-2": 0, "p1-1": 1, "weird": 2, "p0-4294967296": 4, "p01-3": 6, "p1-3": 7, "p1-4": -1, "p2-1": -1, "nope": -1} {
		if got := x.find(id); got != want {
			t.Errorf("find(%q) = %d, want %d", id, got, want)
		}
	}
	if want := []int32{3, 5}; !slices.Equal(x.dups, want) {
		t.Errorf("dups = %v, want %v", x.dups, want)
	}
}

// Every entry is named by the id it was added with, repeats included.
func TestLogIndexNamesEntries(t *testing.T) {
	x := newLogIndex()
	ids := []string{"p1-2", "weird", "p1-2", "weird", "p0-4294967296", "odd"}
	for i, id := range ids {
		x.add(id, int64(i))
	}
	x.seal()
	for i, want := range ids {
		if got := x.id(int32(i)); got != want {
			t.Errorf("id(%d) = %q, want %q", i, got, want)
		}
	}
}
