package checker

import (
	"fmt"
	"testing"
	"time"

	"github.com/locktest/locktest/history"
)

// streamLin runs the streaming check's increments and linearizability over ops.
func streamLin(ops []history.Op, opts Options) *linStream {
	opts = opts.withDefaults()
	lp := newLogPass()
	for i := range ops {
		lp.add(&ops[i])
	}
	lp.finish()
	lin := newLinStream(lp, opts, len(ops))
	for _, rd := range lp.reads {
		lin.add(streamOp{linOp: linOp{call: rd.call, ret: rd.ret, cut: rd.ret, kind: kindRead, value: rd.value}})
	}
	s := newIncrStream(lp, &lp.warn, func(in *streamIncr) { lin.add(streamOpOf(in)) })
	o := newTimeOrder(lp.workers, func(op *history.Op) {
		s.add(op)
		lin.place(s.frontier(op.Time))
	})
	for i := range ops {
		o.add(&ops[i])
	}
	o.finish()
	s.finish()
	lin.finish()
	return lin
}

// On every simulated run and chunk size, the streaming linearizability check cuts the same chunks,
// starts them from the same values and reaches the same verdicts as the whole-history one.
func TestLinStreamMatchesBatch(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 300
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		sr := simulate(seed)
		for _, size := range []int{1, 7, 50, DefaultChunkOps} {
			opts := Options{ChunkOps: size, Timeout: time.Minute}.withDefaults()
			r := indexHistory(sr.ops)
			resolve(r)
			want := checkLinearizability(r, opts)
			got := streamLin(sr.ops, opts)
			tag := fmt.Sprintf("seed %d (%s), chunks of %d", seed, sr.mode, size)
			g, w := got.summary, want.summary
			g.CheckDuration, w.CheckDuration = 0, 0
			gf, wf := g.FirstIllegal, w.FirstIllegal
			g.FirstIllegal, w.FirstIllegal = nil, nil
			if g != w || got.illegal != want.illegal || (gf == nil) != (wf == nil) || gf != nil && *gf != *wf {
				t.Errorf("%s:\n got %+v, %d illegal\nwant %+v, %d illegal", tag, g, got.illegal, w, want.illegal)
			}
			if want.firstIllegal >= 0 && got.first != nil && got.first.init != want.inits[want.firstIllegal] {
				t.Errorf("%s: first illegal chunk starts from %+v, want %+v", tag, got.first.init, want.inits[want.firstIllegal])
			}
		}
	}
}
