package checker

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/locktest/locktest/history"
)

// incrStream is the increments' half of the streaming check's second pass
// (docs/streaming-check.md): it pairs each increment's records as they arrive in time order,
// resolves it against the write log (from the first pass), counts it and checks it against the
// and checkLog do for the whole history, keeping only the increments in flight.
//
// It hands every increment Porcupine must see (applied or unresolved) to emit once its return
// time is known. An applied unknown (info) increment's return is bounded by the earliest
// acknowledgement of a write later in the log: it is registered when invoked (a later write is
// acknowledged after that), and records arrive in time order, so the first such acknowledgement
// is the earliest: the tightest bound the log gives.
type incrStream struct {
	lp   *logPass
	emit func(*streamIncr)
	// onResolved, if set, sees every increment once it is resolved.
	onResolved func(*streamIncr)

	procs   procTable[*procIncrs]
	order   []*procIncrs           // every process's, in the order they showed up
	orphans map[string]*streamIncr // invocations another invocation displaced before they completed
	// waiting are invoked increments whose write is in the log and before the final read: each may
	// still need the bound an acknowledgement of a later write gives.
	waiting incrSet
	matched []uint64 // log entries an increment has claimed (a bit each)

	counts                     OpCounts
	acknowledged, afterFinal   int64
	duplicateReads             int64
	firstDup                   int64 // the value of the first repeated read found (for the example)
	seenReads                  valueSet
	logMismatch                int64
	firstMismatch              *Example
	firstUnresolved            *streamIncr
	blindUnresolved            int64
	incomplete                 string
	stall, stallAt, prevAck    int64
	warn                       *warnings
	fallback, historyEnd, base int64
}

// streamIncr is one increment on its way through the stream.
type streamIncr struct {
	incr
	entry int32 // its write-log entry, -1 if none
	// bound is the earliest acknowledgement of a later write seen since it was invoked.
	bound   int64
	done    bool // its completion (or the history's end) has been seen
	emitted bool
	at      int // its place in the waiting set, -1 when not in it
}

// incrSet is a small set of increments (those in flight, a few per process) kept in a slice, which
// a stream walks at every acknowledgement faster than a map.
type incrSet struct{ items []*streamIncr }

func (s *incrSet) has(in *streamIncr) bool { return in.at >= 0 }

func (s *incrSet) add(in *streamIncr) {
	if in.at < 0 {
		in.at = len(s.items)
		s.items = append(s.items, in)
	}
}

func (s *incrSet) remove(in *streamIncr) {
	if in.at < 0 {
		return
	}
	last := s.items[len(s.items)-1]
	s.items[in.at], last.at = last, in.at
	s.items[len(s.items)-1] = nil
	s.items = s.items[:len(s.items)-1]
	in.at = -1
}

// procIncrs is what the stream keeps of one process.
type procIncrs struct {
	pending  *streamIncr
	lastDone string // id of its last completed increment
	lastTime int64  // time of its latest record
	seen     bool
}

func newIncrStream(lp *logPass, warn *warnings, emit func(*streamIncr)) *incrStream {
	s := &incrStream{lp: lp, emit: emit, warn: warn, orphans: map[string]*streamIncr{},
		firstDup: math.MinInt64, historyEnd: lp.end, base: lp.start}
	s.matched = make([]uint64, (lp.idx.len()+63)/64)
	s.fallback = lp.end
	if lp.final >= 0 {
		s.fallback = lp.reads[lp.final].ret
	}
	s.prevAck = lp.start
	s.seenReads.base = lp.initial
	return s
}

func (s *incrStream) proc(p int) *procIncrs {
	ps, ok := s.procs.get(p)
	if !ok {
		ps = &procIncrs{}
		s.procs.put(p, ps)
		s.order = append(s.order, ps)
	}
	return ps
}

// add takes the next record in time order.
func (s *incrStream) add(op *history.Op) {
	if op.F != history.Incr {
		if op.Process >= 0 {
			ps := s.proc(op.Process)
			ps.lastTime, ps.seen = op.Time, true
		}
		return
	}
	ps := s.proc(op.Process)
	prev, hadPrev := ps.lastTime, ps.seen
	ps.lastTime, ps.seen = op.Time, true
	switch {
	case op.Type == history.Invoke:
		if ps.pending != nil {
			s.orphans[ps.pending.id] = ps.pending
		}
		in := &streamIncr{incr: incr{process: op.Process, client: op.Client, id: op.ID, call: op.Time}, entry: -1, bound: math.MaxInt64, at: -1}
		s.lookUp(in)
		ps.pending = in
	case !op.Type.IsCompletion():
	case ps.pending != nil && ps.pending.id == op.ID:
		// Records without ids (hand-made histories) pair in each process's order.
		in := ps.pending
		ps.pending, ps.lastDone = nil, op.ID
		s.complete(in, op)
	case ps.pending == nil && op.ID != "" && ps.lastDone == op.ID:
		s.warn.add("%s %q completed more than once; later completion ignored", history.Incr, op.ID)
	default:
		if in, ok := s.orphans[op.ID]; ok && op.ID != "" {
			delete(s.orphans, op.ID)
			s.complete(in, op)
			return
		}
		s.warn.add("%s %q completed without an invocation", history.Incr, op.ID)
		// It began no earlier than the process's previous record: a process does one thing at a time.
		call := op.Time
		if hadPrev {
			call = prev
		}
		in := &streamIncr{incr: incr{process: op.Process, client: op.Client, id: op.ID, call: call}, entry: -1, bound: math.MaxInt64, at: -1}
		s.lookUp(in)
		s.complete(in, op)
	}
}

// lookUp finds the increment's log entry and, if its write came before the final read, registers
// it for the bound later acknowledgements give.
func (s *incrStream) lookUp(in *streamIncr) {
	if !s.lp.hasLog || in.id == "" {
		return
	}
	e := s.lp.idx.find(in.id)
	if e < 0 {
		return
	}
	if s.matched[e/64]&(1<<(e%64)) != 0 {
		// Ids are unique per run; a reused one makes the log ambiguous, so this one is not
		// compared with it and no verdict can rest on it.
		s.warn.add("increment id %q is used more than once; the write log cannot tell them apart", in.id)
		in.ambiguous = true
		s.incomplete = fmt.Sprintf("increment id %q is used more than once, so the write log cannot say which of them it records", in.id)
		return
	}
	s.matched[e/64] |= 1 << (e % 64)
	in.entry, in.seq = e, int64(e)+1
	if in.seq <= s.lp.finalLen {
		s.waiting.add(in)
	}
}

// complete applies a completion record to in and resolves it.
func (s *incrStream) complete(in *streamIncr, c *history.Op) {
	in.status, in.end, in.fenced, in.skipped = c.Type, c.Time, c.Fenced, c.Skipped
	if c.Value != nil {
		in.read, in.hasRead = *c.Value, true
	}
	s.resolve(in)
}

// resolve decides what in did (applied, not applied, unknown) and checks it against the
// counter's accounting and the log.
func (s *incrStream) resolve(in *streamIncr) {
	in.done = true
	if in.status == history.OK && !in.hasRead {
		s.incomplete = fmt.Sprintf("increment %q completed ok without the value it read", in.id)
		in.status = history.Info
	}
	if in.end < in.call {
		s.warn.add("increment %q completed (%d) before it was invoked (%d)", in.id, in.end, in.call)
		in.end = in.call
	}
	switch in.status {
	case history.OK:
		s.counts.OK++
		in.outcome, in.ret = outApplied, in.end
		s.acknowledge(in)
	case history.Fail:
		s.counts.Fail++
		if in.fenced {
			s.counts.Fenced++
		}
		if in.skipped {
			s.counts.Skipped++
		}
		in.outcome = outNotApplied
	default:
		s.counts.Info++
		switch {
		case in.seq != 0:
			s.counts.InfoApplied++
			in.outcome = outApplied
			if !in.hasRead {
				in.read, in.hasRead = s.lp.idx.value(in.entry)-1, true
			}
			in.late = in.seq > s.lp.finalLen
		case s.lp.hasLog:
			s.counts.InfoNotApplied++
			in.outcome = outNotApplied
		default:
			s.counts.InfoUnresolved++
			in.outcome, in.ret = outUnresolved, math.MaxInt64
			if !in.hasRead {
				s.blindUnresolved++
			}
			if s.firstUnresolved == nil || in.call < s.firstUnresolved.call {
				s.firstUnresolved = in
			}
		}
	}
	if in.outcome != outApplied || in.status != history.Info || in.late || in.bound != math.MaxInt64 {
		s.waiting.remove(in) // no bound to wait for, or it came while in was in flight
	}
	s.account(in)
	s.checkLog(in)
	s.tryEmit(in)
	if s.onResolved != nil {
		s.onResolved(in)
	}
}

// acknowledge is an ok completion at in.end: it bounds the return of every waiting increment
// whose write came earlier in the log, and it ends a stretch without acknowledgements.
func (s *incrStream) acknowledge(in *streamIncr) {
	t := max(in.end, s.base)
	if t-s.prevAck > s.stall {
		s.stall, s.stallAt = t-s.prevAck, s.prevAck
	}
	s.prevAck = max(s.prevAck, t)
	if in.seq == 0 || in.seq > s.lp.finalLen {
		return
	}
	for i := 0; i < len(s.waiting.items); i++ {
		w := s.waiting.items[i]
		if w.seq < in.seq && w.bound == math.MaxInt64 {
			w.bound = in.end
			if w.done {
				s.waiting.remove(w)
				i-- // the last item moved into its place
				s.tryEmit(w)
			}
		}
	}
}

// tryEmit hands in to Porcupine's side once its return time is known.
func (s *incrStream) tryEmit(in *streamIncr) {
	if in.emitted || !in.done || in.outcome == outNotApplied {
		return
	}
	if in.outcome == outApplied && in.status == history.Info {
		if in.late {
			in.ret = max(in.call, s.historyEnd)
		} else {
			if s.waiting.has(in) {
				return // until a later write is acknowledged, or the history ends
			}
			in.ret = max(in.call, min(s.fallback, in.bound))
		}
	}
	in.emitted = true
	s.emit(in)
}

// account counts an applied increment: acknowledged (or applied after the final read), and a
// read value another applied increment read too.
func (s *incrStream) account(in *streamIncr) {
	if in.outcome != outApplied {
		return
	}
	if in.late {
		s.afterFinal++
	} else {
		s.acknowledged++
	}
	if in.hasRead && s.seenReads.add(in.read) {
		s.duplicateReads++
		if s.firstDup == math.MinInt64 {
			s.firstDup = in.read
		}
	}
}

// checkLog compares in with its log entry: the log and the client were written by different
// parties, so a disagreement means one of them is wrong (log_mismatch), never silently believed.
func (s *incrStream) checkLog(in *streamIncr) {
	if !s.lp.hasLog || in.ambiguous {
		return
	}
	mismatch := func(format string, args ...any) {
		s.mismatch(in.call, []int{in.process}, "increment %s (process %d, invoked at %s) "+format,
			append([]any{in.id, in.process, seconds(in.call - s.base)}, args...)...)
	}
	switch {
	case in.status == history.Fail && in.seq != 0:
		mismatch("failed, so it surely had no effect, but the write log has it (seq %d)", in.seq)
		return
	case in.status == history.OK && in.seq == 0:
		mismatch("was acknowledged, but the write log lacks it")
		return
	case in.status == history.OK && in.seq > s.lp.finalLen:
		mismatch("was acknowledged before the final read, but the write log has it after that read (seq %d, read at log length %d)", in.seq, s.lp.finalLen)
	}
	if in.seq != 0 && in.hasRead {
		if v := s.lp.idx.value(in.entry); v != in.written() {
			mismatch("read %d, so it wrote %d, but the write log says it wrote %d (seq %d)", in.read, in.written(), v, in.seq)
		}
	}
}

func (s *incrStream) mismatch(t int64, procs []int, format string, args ...any) {
	s.logMismatch++
	if s.firstMismatch == nil || t < s.firstMismatch.Time {
		s.firstMismatch = &Example{Kind: "log_mismatch", Time: t, Processes: procs, Text: fmt.Sprintf(format, args...)}
	}
}

// finish resolves the increments that never completed (their process died, or the history was
// cut), gives the waiting ones the fallback bound, and checks the log entries no increment
// claimed.
func (s *incrStream) finish() {
	var open []*streamIncr
	for _, ps := range s.order {
		if ps.pending != nil {
			open = append(open, ps.pending)
		}
	}
	for _, in := range s.orphans {
		open = append(open, in)
	}
	sortStreamIncrs(open)
	for _, in := range open {
		in.status, in.end = history.Info, in.call
		s.resolve(in)
	}
	rest := slices.Clone(s.waiting.items)
	sortStreamIncrs(rest)
	for _, in := range rest {
		s.waiting.remove(in)
		s.tryEmit(in)
	}
	if !s.lp.hasLog {
		return
	}
	dup := make(map[int32]bool, len(s.lp.idx.dups))
	for _, j := range s.lp.idx.dups {
		dup[j] = true
	}
	for e := range s.lp.idx.len() {
		if s.matched[e/64]&(1<<(e%64)) == 0 && !dup[int32(e)] {
			s.mismatch(s.historyEnd, nil, "write-log entry %d (op %s, value %d) matches no increment in the history", e+1, s.lp.idx.id(int32(e)), s.lp.idx.value(int32(e)))
		}
	}
	for _, j := range s.lp.idx.dups {
		s.mismatch(s.historyEnd, nil, "op %s is in the write log twice (again at seq %d): its write was applied twice", s.lp.idx.id(j), j+1)
	}
}

// valueSet remembers which counter values were read: a bitmap from the initial value up (the
// values a run reads), a map for any other.
type valueSet struct {
	base  int64
	bits  []uint64
	other map[int64]struct{}
}

// add adds v and says whether it was there already.
func (vs *valueSet) add(v int64) bool {
	d := v - vs.base
	if d >= 0 && d < 1<<36 {
		w := int(d / 64)
		if w >= len(vs.bits) {
			n := max(w+1, 2*len(vs.bits))
			vs.bits = append(vs.bits, make([]uint64, n-len(vs.bits))...)
		}
		m := uint64(1) << (d % 64)
		had := vs.bits[w]&m != 0
		vs.bits[w] |= m
		return had
	}
	if vs.other == nil {
		vs.other = map[int64]struct{}{}
	}
	_, had := vs.other[v]
	vs.other[v] = struct{}{}
	return had
}

// sortStreamIncrs orders increments by invocation, then id, so what is resolved at the end comes
// out the same every time.
func sortStreamIncrs(ins []*streamIncr) {
	slices.SortFunc(ins, func(a, b *streamIncr) int {
		if c := cmp.Compare(a.call, b.call); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
}

// frontier is the earliest call of an increment not handed to emit yet (in flight, displaced, or
// waiting for its return bound), or now when there is none: nothing handed over later calls
// before it, since records arrive in time order.
func (s *incrStream) frontier(now int64) int64 {
	f := now
	for _, ps := range s.order {
		if ps.pending != nil {
			f = min(f, ps.pending.call)
		}
	}
	for _, in := range s.orphans {
		f = min(f, in.call)
	}
	for _, in := range s.waiting.items {
		if !in.emitted {
			f = min(f, in.call)
		}
	}
	return f
}

// streamOpOf is the operation Porcupine's side gets for an increment, labelled as opMeta does.
func streamOpOf(in *streamIncr) streamOp {
	op := streamOp{linOp: incrLinOpOf(&in.incr), seq: in.seq}
	m := opMeta{process: in.process, client: in.client, id: in.id, how: string(in.status)}
	switch {
	case in.outcome == outUnresolved:
		m.how = "info, unresolved (no write log)"
	case in.status != history.OK:
		m.how = fmt.Sprintf("%s, applied per write log (seq %d)", in.status, in.seq)
	}
	op.meta = m
	if in.outcome != outApplied {
		op.seq = 0
	}
	return op
}

// incrLinOpOf is the operation Porcupine gets for a resolved increment.
func incrLinOpOf(in *incr) linOp {
	op := linOp{call: in.call, ret: in.ret, cut: in.ret, kind: kindIncr, value: in.read}
	if in.outcome == outUnresolved {
		op.kind, op.cut = kindIncrMaybe, in.end
		if !in.hasRead {
			op.kind, op.value = kindIncrBlind, 0
		}
	}
	return op
}
