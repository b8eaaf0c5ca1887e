package checker

import (
	"fmt"
	"slices"
	"testing"

	"github.com/locktest/locktest/history"
)

// The compact index finds, for every increment of every simulated run, the entry the
// whole-history index finds, and the same repeated entries.
func TestLogIndexMatchesMap(t *testing.T) {
	for seed := uint64(1); seed <= 1000; seed++ {
		sr := simulate(seed)
		r := indexHistory(sr.ops)
		if !r.hasLog {
			continue
		}
		x := newLogIndex()
		for _, op := range sr.ops {
			if op.F == history.WriteLog {
				x.add(op.ID, *op.Value)
			}
		}
		x.seal()
		tag := fmt.Sprintf("seed %d (%s)", seed, sr.mode)
		for _, in := range r.incrs {
			want, ok := r.logIdx[in.id]
			if !ok {
				want = -1
			}
			if got := x.find(in.id); got != want {
				t.Fatalf("%s: entry of %s = %d, want %d", tag, in.id, got, want)
			}
			if want >= 0 && x.value(want) != r.log[want].value {
				t.Fatalf("%s: value of entry %d = %d, want %d", tag, want, x.value(want), r.log[want].value)
			}
		}
		if !slices.Equal(x.dups, r.logDups) {
			t.Fatalf("%s: repeated entries %v, want %v", tag, x.dups, r.logDups)
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
