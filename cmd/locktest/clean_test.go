package main

import (
	"strings"
	"testing"

	"github.com/locktest/locktest/cluster"
)

func TestPrintClean(t *testing.T) {
	var b strings.Builder
	printClean(&b, cluster.CleanResult{Removed: cluster.Leftovers{Containers: 3, Networks: 1}})
	if got, want := b.String(), "removed 3 container(s) and 1 network(s)\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	b.Reset()
	printClean(&b, cluster.CleanResult{Kept: cluster.Leftovers{Containers: 6, Networks: 1},
		Live: []cluster.LiveRun{{RunID: "r1", Why: "pid 1234"}}})
	if want := "kept 6 container(s) and 1 network(s) of 1 live run (pid 1234); --all removes them too\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("got %q, want it to end %q", b.String(), want)
	}
	b.Reset()
	printClean(&b, cluster.CleanResult{Kept: cluster.Leftovers{Containers: 4, Networks: 2},
		Live: []cluster.LiveRun{{RunID: "r1", Why: "pid 1"}, {RunID: "r2", Why: "pid 2"}}})
	if want := "of 2 live runs (r1: pid 1; r2: pid 2)"; !strings.Contains(b.String(), want) {
		t.Errorf("got %q, want it to contain %q", b.String(), want)
	}
	b.Reset()
	printClean(&b, cluster.CleanResult{Stuck: []cluster.StuckNetwork{{Name: "n1", Why: "in use by container web-1"}}})
	if want := "removed 0 container(s) and 0 network(s)\nleft network n1 of a dead run: in use by container web-1\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
