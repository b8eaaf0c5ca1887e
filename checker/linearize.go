package checker

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizability results as written in LinResult.Result.
const (
	linOK      = "ok"
	linIllegal = "illegal"
	linUnknown = "unknown"
)

// skipped marks a chunk that was not checked because the time budget was spent.
const skipped porcupine.CheckResult = ""

// linOutcome is everything the linearizability phase found, kept for examples and drawing.
type linOutcome struct {
	summary      LinResult
	illegal      int64
	ops          []linOp
	chunks       []chunk
	inits        []counterState
	results      []porcupine.CheckResult
	firstIllegal int // index of the first illegal chunk, -1 if none
}

// checkLinearizability checks the history chunk by chunk (see cutChunks), in parallel, within
// opts.Timeout in total.
//
// Porcupine's cost grows much faster than linearly with the number of operations (its cache
// entries are bitsets as long as the history), so one check of a million operations never
// finishes while a thousand checks of a thousand take seconds.
func checkLinearizability(r *run, opts Options) *linOutcome {
	start := time.Now()
	lo := &linOutcome{firstIllegal: -1}
	lo.ops = r.linOps()
	lo.chunks = cutChunks(lo.ops, opts.ChunkOps)
	r.describeChunks(lo.ops, lo.chunks)
	var fromCarry []bool
	lo.inits, fromCarry = r.initialStates(lo.chunks)
	lo.results = make([]porcupine.CheckResult, len(lo.chunks))

	b := &budget{deadline: start.Add(opts.Timeout), total: opts.Timeout, ops: len(lo.ops)}
	lo.checkAll(b)
	// A start value carried from a chunk that turned out illegal or unchecked cannot be trusted:
	// check those chunks again from an unknown value, so one violation is reported once rather
	// than again in every later chunk. In order, because a re-check can change the next chunk's
	// premise.
	for k := 1; k < len(lo.chunks); k++ {
		if fromCarry[k] && lo.results[k-1] != porcupine.Ok && lo.inits[k].known {
			lo.inits[k] = unknownState
			lo.results[k] = lo.checkOne(k, b)
		}
	}
	lo.summarize(time.Since(start))
	return lo
}

// checkAll checks every chunk, one worker per CPU. The chunks are independent given their start
// values, and most take well under a millisecond, so a simple shared queue balances the load.
func (lo *linOutcome) checkAll(b *budget) {
	workers := min(runtime.GOMAXPROCS(0), len(lo.chunks))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= len(lo.chunks) {
					return
				}
				lo.results[k] = lo.checkOne(k, b)
			}
		})
	}
	wg.Wait()
}

// checkOne runs Porcupine on chunk k from its start value.
func (lo *linOutcome) checkOne(k int, b *budget) porcupine.CheckResult {
	c := &lo.chunks[k]
	timeout := b.forChunk(c.size())
	if timeout <= 0 {
		return skipped
	}
	ops := make([]porcupine.Operation, c.size())
	for i, op := range lo.ops[c.lo:c.hi] {
		ops[i] = porcupine.Operation{Input: op.kind, Output: op.value, Call: op.call, Return: op.ret}
	}
	return porcupine.CheckOperationsTimeout(newCounterModel(lo.inits[k]), ops, timeout)
}

// budget shares the total time among chunks.
type budget struct {
	deadline time.Time
	total    time.Duration
	ops      int
}

// forChunk is the time a chunk of n operations may take. Each chunk may use several times its
// proportional share (most finish far below it, and a hard one deserves the slack), but never
// more than what is left, so the total budget holds.
func (b *budget) forChunk(n int) time.Duration {
	left := time.Until(b.deadline)
	if left <= 0 {
		return 0
	}
	share := time.Duration(float64(b.total) * float64(n) / float64(max(b.ops, 1)) * 8)
	return min(left, max(share, b.total/100))
}

func (lo *linOutcome) summarize(d time.Duration) {
	s := &lo.summary
	s.Chunks, s.CheckDuration = len(lo.chunks), d
	for k, res := range lo.results {
		c := &lo.chunks[k]
		s.LargestChunk = max(s.LargestChunk, c.size())
		switch res {
		case porcupine.Illegal:
			lo.illegal++
			if lo.firstIllegal < 0 {
				lo.firstIllegal = k
				s.FirstIllegal = &Window{From: c.from, To: c.to}
			}
		case porcupine.Ok:
		default:
			s.Unchecked++
		}
	}
	switch {
	case lo.illegal > 0:
		s.Result = linIllegal
	case s.Unchecked > 0:
		s.Result = linUnknown
	default:
		s.Result = linOK
	}
}

// example describes the first illegal chunk. Porcupine says only that no order fits, so the
// sentence gives where to look: the window, the processes, and the value it started from.
func (lo *linOutcome) example(r *run) (Example, bool) {
	if lo.firstIllegal < 0 {
		return Example{}, false
	}
	k := lo.firstIllegal
	c := &lo.chunks[k]
	var procs []int
	seen := map[int]bool{}
	for _, op := range lo.ops[c.lo:c.hi] {
		if op.src >= 0 && !seen[r.incrs[op.src].process] {
			seen[r.incrs[op.src].process] = true
			procs = append(procs, r.incrs[op.src].process)
		}
	}
	sort.Ints(procs)
	names := make([]string, len(procs))
	for i, p := range procs {
		names[i] = fmt.Sprint(p)
	}
	from := "an unknown value"
	if s := lo.inits[k]; s.known {
		from = fmt.Sprint(s.value)
	}
	return Example{
		Kind: "nonlinearizable",
		Text: fmt.Sprintf("the %d operations between %s and %s (processes %s) cannot be ordered as atomic increments of a counter starting at %s",
			c.size(), r.at(c.from), r.at(c.to), strings.Join(names, ", "), from),
		Time:      c.from,
		Processes: procs,
	}, true
}

// unresolvedExample names the earliest increment whose effect stayed unknown.
func unresolvedExample(r *run) Example {
	var first *incr
	for i := range r.incrs {
		if in := &r.incrs[i]; in.outcome == outUnresolved && (first == nil || in.call < first.call) {
			first = in
		}
	}
	if in := first; in != nil {
		read := "without a read value"
		if in.hasRead {
			read = fmt.Sprintf("after reading %d", in.read)
		}
		return Example{
			Kind: "unresolved",
			Text: fmt.Sprintf("increment %s of process %d (client %d), invoked at %s, ended unknown %s and there is no write log to tell whether it was applied",
				in.id, in.process, in.client, r.at(in.call), read),
			Time:      in.call,
			Processes: []int{in.process},
		}
	}
	return Example{Kind: "unresolved"}
}
