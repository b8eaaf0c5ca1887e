package checker

import (
	"cmp"
	"slices"

	"github.com/locktest/locktest/history"
)

// streamIncrements runs the increment side of the streaming check over ops as CheckSource does,
// and returns the stream and the operations it handed to Porcupine's side.
func streamIncrements(ops []history.Op) (*incrStream, *logPass, []linOp) {
	lp := newLogPass()
	for i := range ops {
		lp.add(&ops[i])
	}
	lp.finish()
	var lin []linOp
	s := newIncrStream(lp, &lp.warn, func(in *streamIncr) { lin = append(lin, incrLinOpOf(&in.incr)) })
	o := newTimeOrder(lp.workers, s.add)
	if err := Records(ops).Scan(workerRecords(o)); err != nil {
		panic(err)
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

// checkerOps are all the operations the checker hands Porcupine for ops (the increments, then
// the harness's reads), and the counter's initial value.
func checkerOps(ops []history.Op) ([]linOp, int64) {
	_, lp, lin := streamIncrements(ops)
	for _, rd := range lp.reads {
		lin = append(lin, linOp{call: rd.call, ret: rd.ret, cut: rd.ret, kind: kindRead, value: rd.value})
	}
	sortLinOps(lin)
	return lin, lp.initial
}
