package checker

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/locktest/locktest/history"
)

// streamIncrements runs the two passes of the streaming check's increment side over ops as a file
// would deliver them, and returns the stream and the operations it handed to Porcupine's side.
func streamIncrements(ops []history.Op) (*incrStream, *logPass, []linOp) {
	lp := newLogPass()
	for i := range ops {
		lp.add(&ops[i])
	}
	lp.finish()
	var lin []linOp
	s := newIncrStream(lp, &lp.warn, func(in *streamIncr) { lin = append(lin, incrLinOpOf(&in.incr)) })
	o := newTimeOrder(lp.workers, s.add)
	for i := range ops {
		o.add(&ops[i])
	}
	o.finish()
	s.finish()
	return s, lp, lin
}

func sortLinOps(ops []linOp) {
	slices.SortFunc(ops, func(a, b linOp) int {
		return cmp.Or(cmp.Compare(a.call, b.call), cmp.Compare(a.ret, b.ret), cmp.Compare(a.kind, b.kind), cmp.Compare(a.value, b.value), cmp.Compare(a.cut, b.cut))
	})
}

// On every simulated run the streaming increment side resolves, counts and checks the increments
// exactly as the whole-history checker does, and hands Porcupine the same operations with the same
// return times (applied unknown increments' bounds included).
func TestIncrStreamMatchesBatch(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 500
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		sr := simulate(seed)
		tag := fmt.Sprintf("seed %d (%s)", seed, sr.mode)
		want := Check(sr.ops, Options{})
		r := indexHistory(sr.ops)
		resolve(r)
		var wantLin []linOp
		for _, op := range r.linOps() {
			if op.src >= 0 {
				op.src = 0
				wantLin = append(wantLin, op)
			}
		}
		s, lp, gotLin := streamIncrements(sr.ops)
		got := s.counts
		w := want.Ops
		w.AcquireOK, w.AcquireFail, w.AcquireInfo, w.ReleaseOK, w.ReleaseFail, w.ReleaseInfo = 0, 0, 0, 0, 0, 0
		if got != w {
			t.Errorf("%s: counts\n got %+v\nwant %+v", tag, got, w)
		}
		if s.acknowledged != want.Acknowledged || s.afterFinal != want.AppliedAfterFinalRead {
			t.Errorf("%s: acknowledged %d, after the final read %d; want %d, %d", tag, s.acknowledged, s.afterFinal, want.Acknowledged, want.AppliedAfterFinalRead)
		}
		if s.duplicateReads != want.Anomalies.DuplicateReads || s.logMismatch != want.Anomalies.LogMismatch {
			t.Errorf("%s: duplicate reads %d, log mismatches %d; want %d, %d", tag, s.duplicateReads, s.logMismatch,
				want.Anomalies.DuplicateReads, want.Anomalies.LogMismatch)
		}
		if g, w := exampleText(&Result{Examples: examplesOf(s.firstMismatch)}, "log_mismatch"), exampleText(want, "log_mismatch"); g != w {
			t.Errorf("%s: first log mismatch\n got %s\nwant %s", tag, g, w)
		}
		incomplete := s.incomplete
		if lp.incomplete != "" {
			incomplete = lp.incomplete
		}
		if incomplete != want.Incomplete {
			t.Errorf("%s: incomplete %q, want %q", tag, incomplete, want.Incomplete)
		}
		sortLinOps(gotLin)
		sortLinOps(wantLin)
		if !slices.Equal(gotLin, wantLin) {
			t.Errorf("%s: %d operations for Porcupine, want %d; first difference: %s", tag, len(gotLin), len(wantLin), firstLinDiff(gotLin, wantLin))
		}
	}
}

func examplesOf(ex *Example) []Example {
	if ex == nil {
		return nil
	}
	return []Example{*ex}
}

func firstLinDiff(a, b []linOp) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("got %+v, want %+v", a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}
