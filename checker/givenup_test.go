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

// Giving stretches up never turns a verdict around: on simulated runs of every mode, checked with
// a cap so small that many stretches are given up, a verdict is the one found without the cap
// or unknown, and every counted anomaly but the non-linearizable chunks stays as it was.
func TestGivingUpNeverFlipsAVerdict(t *testing.T) {
	defer func(n int) { maxPieceOps = n }(maxPieceOps)
	gaveUp := 0
	for seed := uint64(1); seed <= 300; seed++ {
		run := simulate(seed)
		maxPieceOps = 1 << 17
		whole := Check(run.ops, Options{ChunkOps: 50})
		maxPieceOps = 8
		capped := Check(run.ops, Options{ChunkOps: 50})
		if capped.Linearizability.GivenUpOps > 0 {
			gaveUp++
		}
		if capped.Valid != whole.Valid && capped.Valid != Unknown {
			t.Fatalf("seed %d (%v): %v with stretches given up (%+v), %v without", seed, run.mode, capped.Valid, capped.Linearizability, whole.Valid)
		}
		a, b := capped.Anomalies, whole.Anomalies
		a.Nonlinearizable, b.Nonlinearizable = 0, 0
		if a != b {
			t.Fatalf("seed %d: anomalies %+v with stretches given up, %+v without", seed, a, b)
		}
	}
	if gaveUp == 0 {
		t.Fatal("no simulated run had a stretch to give up: the test proves nothing")
	}
	t.Logf("%d of 300 runs had stretches given up", gaveUp)
}
