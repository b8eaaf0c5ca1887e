package checker

import (
	"fmt"
	"strings"
	"testing"

	"github.com/locktest/locktest/history"
)

// overlappingAllAlong is n increments by two processes, each called before the previous one
// returned, so the history has no point at which nothing is in flight until the final read. They
// read 0, 1, 2, … (legal: each can take effect in call order), except that increment lost, if
// positive, reads what the one before it read.
func overlappingAllAlong(n, lost int) []history.Op {
	b := newBuilder(0)
	var read int64
	type entry struct {
		id    string
		value int64
	}
	var log []entry
	for i := range n {
		if i == lost && i > 0 {
			read--
		}
		id := fmt.Sprintf("p%d-%d", i%2, i)
		b.ok(i%2, id, float64(2*i), float64(2*i+3), read)
		read++
		log = append(log, entry{id, read})
	}
	b.final(float64(2*n+10), read)
	for i, e := range log {
		b.logEntry(e.id, e.value, int64(i+1))
	}
	return b.ops
}

// A stretch without a quiescent point longer than maxPieceOps is not kept whole for Porcupine:
// it is reported unchecked (the verdict unknown, with a warning saying why) unless an anomaly is
// certain without it; a shorter one is checked as before.
func TestStretchWithoutQuiescentPointIsGivenUp(t *testing.T) {
	defer func(n int) { maxPieceOps = n }(maxPieceOps)
	const n = 1000

	maxPieceOps = 2 * n
	res := Check(overlappingAllAlong(n, 0), Options{})
	if res.Valid != Valid || res.Linearizability.GivenUpOps != 0 || res.Linearizability.LargestChunk < n {
		t.Fatalf("under the cap: %v %+v, want valid, checked as one chunk of %d", res.Valid, res.Linearizability, n)
	}

	maxPieceOps = n / 10
	res = Check(overlappingAllAlong(n, 0), Options{})
	lin := res.Linearizability
	if res.Valid != Unknown || lin.Result != linUnknown || lin.GivenUpOps != n || lin.Unchecked != 1 || lin.LargestChunk > 1 {
		t.Fatalf("over the cap: %v %+v, want unknown with the %d increments given up", res.Valid, lin, n)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), fmt.Sprintf("%d operations from", n)) {
		t.Errorf("no warning of the stretch given up: %q", res.Warnings)
	}

	res = Check(overlappingAllAlong(n, n/2), Options{})
	if res.Valid != Invalid || res.Anomalies.DuplicateReads != 1 || res.Linearizability.GivenUpOps != n {
		t.Fatalf("a duplicate read in the stretch given up: %v %+v %+v, want invalid", res.Valid, res.Anomalies, res.Linearizability)
	}
}
