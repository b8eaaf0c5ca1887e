package checker

import (
	"math"
	"runtime"
	"time"

	"github.com/anishathalye/porcupine"
)

// linStream is checkLinearizability done as operations arrive (docs/streaming-check.md): it puts
// them in call order as far as nothing earlier can still come, cuts them into the same chunks at
// the same quiescent points, gives each the same start value, and checks them with Porcupine on
// other cores while the history is still being read. It keeps the operations not yet in a chunk
// and the chunks not yet judged in order, a bounded number.
type linStream struct {
	lp     *logPass
	budget *budget

	// pending are operations handed over but not yet placed: something with an earlier call may
	// still come (see place).
	pending streamOpHeap
	cut     chunker

	carry      counterState // the value the last chunk leaves the counter at, if legal
	prevMaxSeq int64
	made       int // chunks made

	// Checking: at most maxInflight chunks at a time, their results judged in order.
	results     chan *streamChunk
	inflight    int
	maxInflight int
	done        map[int]*streamChunk
	next        int // the chunk to judge next
	prevResult  porcupine.CheckResult

	summary   LinResult
	illegal   int64
	first     *streamChunk // the first illegal chunk
	startedAt time.Time

	// In call order, the applied increments' reads find the repeated read the duplicate_reads example
	// shows: the value whose second reader (by call) came first.
	reads    valueSet
	firstDup *int64
	dupCall  int64

	// vis is the window the visualization draws: whole chunks from the first
	// illegal one, or from the start while there is none, up to maxVisOps operations.
	vis     []streamOp
	visInit counterState
	visFull bool
	visSet  bool // vis starts at the first illegal chunk
}

// streamOp is one operation for Porcupine with what the chunking and the drawing need.
type streamOp struct {
	linOp
	seq  int64 // write-log seq of an applied increment, 0 otherwise
	meta opMeta
}

// streamChunk is one chunk of operations, with its start value and verdict.
type streamChunk struct {
	k         int
	ops       []streamOp
	givenUp   int // operations of a stretch given up (see chunker), not checked
	c         chunk
	init      counterState
	fromCarry bool
	result    porcupine.CheckResult
}

func newLinStream(lp *logPass, opts Options, ops int) *linStream {
	workers := runtime.GOMAXPROCS(0)
	s := &linStream{
		lp: lp, carry: knownState(lp.initial),
		maxInflight: 4 * workers, done: map[int]*streamChunk{}, startedAt: time.Now(),
	}
	s.budget = &budget{deadline: s.startedAt.Add(opts.Timeout), total: opts.Timeout, ops: ops}
	s.reads.base = lp.initial
	s.cut = chunker{target: opts.ChunkOps, maxPiece: maxPieceOps, out: s.closeChunk, giveUp: s.giveUp}
	s.results = make(chan *streamChunk, s.maxInflight)
	return s
}

// add hands over one operation; it is placed once nothing with an earlier call can come.
func (s *linStream) add(op streamOp) { s.pending.push(op) }

// place puts in call order every pending operation that called before frontier: the earliest
// call of an operation not handed over yet (one in flight, or an unknown increment waiting for
// its return bound) or of any later one (records arrive in time order, so no later invocation
// calls before the current record).
func (s *linStream) place(frontier int64) {
	for s.pending.Len() > 0 && s.pending[0].call < frontier {
		s.append(s.pending.pop())
	}
}

// append adds the next operation in call order.
func (s *linStream) append(op streamOp) {
	// Ties in call are broken by the lower value, so the example does not depend on arrival order.
	if op.kind == kindIncr && s.reads.add(op.value) && (s.firstDup == nil || op.call == s.dupCall && op.value < *s.firstDup) {
		v := op.value
		s.firstDup, s.dupCall = &v, op.call
	}
	s.cut.append(op)
}

// chunker cuts operations arriving in call order into chunks at quiescent points and merges the
// pieces between those points into chunks of about target operations.
//
// A quiescent point lies before an operation whose call comes strictly after every earlier
// operation's end (its cut): nothing is in flight there, so every linearization orders all
// earlier operations before all later ones, and the two sides can be checked separately given the
// value of the counter between them. Porcupine treats intervals as closed, so an operation
// returning at t and one called at t are concurrent and no cut is made between them. Pieces are
// never split; a piece larger than target (the lock let critical sections overlap) becomes a
// chunk by itself.
//
// A piece longer than maxPiece (critical sections overlapping all along, as without a lock) is
// given up: cutting it anywhere else could call a legal history illegal, and keeping it would
// make memory grow with the run while Porcupine could not search it anyway. Its operations are
// only counted, and giveUp gets the stretch once it ends; it is reported unchecked, which makes
// the verdict unknown unless an anomaly is certain without it (a lost update, a duplicate read).
type chunker struct {
	target   int
	maxPiece int
	out      func([]streamOp)
	giveUp   func(givenUp)
	over     *givenUp // the piece being given up
	// chunkOps is the chunk being built, up to the last quiescent point found; whether to close
	// it there waits for the size of the piece after it, pieceOps.
	chunkOps, pieceOps []streamOp
	endMax             int64 // the latest cut among the operations so far
	started            bool
}

// givenUp is a stretch of operations without a quiescent point that was not checked.
type givenUp struct {
	ops      int
	from, to int64 // earliest call, latest cut
	maxSeq   int64 // the highest write-log seq among its applied increments, 0 if none
}

func (g *givenUp) add(op *streamOp) {
	if g.ops == 0 {
		g.from, g.to = op.call, op.cut
	}
	g.ops++
	g.from, g.to = min(g.from, op.call), max(g.to, op.cut)
	if op.kind == kindIncr {
		g.maxSeq = max(g.maxSeq, op.seq)
	}
}

// maxPieceOps is the longest stretch without a quiescent point that is checked (see chunker):
// about 15 MB of operations. A variable for tests.
var maxPieceOps = 1 << 17

// append adds the next operation in call order.
func (c *chunker) append(op streamOp) {
	if c.started && c.endMax < op.call {
		c.pieceDone()
	}
	c.started = true
	c.endMax = max(c.endMax, op.cut)
	if c.over != nil {
		c.over.add(&op)
		return
	}
	c.pieceOps = append(c.pieceOps, op)
	if c.maxPiece > 0 && len(c.pieceOps) > c.maxPiece {
		if len(c.chunkOps) > 0 {
			c.out(c.chunkOps)
			c.chunkOps = nil
		}
		c.over = &givenUp{}
		for i := range c.pieceOps {
			c.over.add(&c.pieceOps[i])
		}
		c.pieceOps = nil
	}
}

// pieceDone is a quiescent point after pieceOps: the chunk closes before the piece if it is big
// enough, or if the piece would make it too big (so a huge piece does not drag small neighbours
// into an expensive check); otherwise it takes the piece in.
func (c *chunker) pieceDone() {
	if c.over != nil {
		c.giveUp(*c.over)
		c.over = nil
		return
	}
	if len(c.chunkOps) > 0 {
		if size, next := len(c.chunkOps), len(c.pieceOps); size >= c.target || size+next > c.target {
			c.out(c.chunkOps)
			c.chunkOps = nil
		}
	}
	c.chunkOps = append(c.chunkOps, c.pieceOps...)
	c.pieceOps = nil
}

// finish closes the last piece and the last chunk.
func (c *chunker) finish() {
	if len(c.pieceOps) > 0 || c.over != nil {
		c.pieceDone()
	}
	if len(c.chunkOps) > 0 {
		c.out(c.chunkOps)
		c.chunkOps = nil
	}
}

// closeChunk describes a chunk, gives it its start value and has it
// checked.
func (s *linStream) closeChunk(ops []streamOp) {
	sc := &streamChunk{k: s.made, ops: ops}
	s.made++
	c := &sc.c
	c.lo, c.hi = 0, len(ops)
	c.from, c.to = math.MaxInt64, math.MinInt64
	for _, op := range ops {
		c.from, c.to = min(c.from, op.call), max(c.to, op.cut)
		var v int64
		switch op.kind {
		case kindIncr:
			v = op.value + 1
			if op.seq > 0 {
				if c.minSeq == 0 || op.seq < c.minSeq {
					c.minSeq = op.seq
				}
				c.maxSeq = max(c.maxSeq, op.seq)
			}
		case kindRead:
			v = op.value
		default:
			c.open = true
			continue
		}
		if !c.hasTop || v > c.top {
			c.top, c.hasTop = v, true
		}
	}
	switch {
	case s.lp.hasLog && c.minSeq > 0:
		sc.init = knownState(s.valueBefore(c.minSeq))
	case s.lp.hasLog && s.prevMaxSeq > 0:
		sc.init = knownState(s.valueBefore(s.prevMaxSeq + 1))
	default:
		sc.init, sc.fromCarry = s.carry, sc.k > 0
	}
	s.prevMaxSeq = max(s.prevMaxSeq, c.maxSeq)
	s.carry = c.carry()
	s.submit(sc)
}

// giveUp counts a stretch the chunker gave up as an unchecked chunk, judged in its turn. The
// counter's value after it is unknown, unless the write log tells it.
func (s *linStream) giveUp(g givenUp) {
	sc := &streamChunk{k: s.made, givenUp: g.ops, result: skipped}
	s.made++
	sc.c.from, sc.c.to, sc.c.maxSeq = g.from, g.to, g.maxSeq
	s.prevMaxSeq = max(s.prevMaxSeq, g.maxSeq)
	s.carry = unknownState
	s.submit(sc)
}

// valueBefore is the counter's value just before the write with the given seq was applied.
func (s *linStream) valueBefore(seq int64) int64 {
	if seq <= 1 {
		return s.lp.initial
	}
	return s.lp.idx.value(int32(seq - 2))
}

// submit checks sc on another core, first waiting for a result if enough chunks are in flight.
func (s *linStream) submit(sc *streamChunk) {
	for s.inflight >= s.maxInflight {
		s.collect(<-s.results)
	}
	s.inflight++
	go func() {
		sc.result = s.check(sc)
		s.results <- sc
	}()
}

// check runs Porcupine on sc from its start value.
func (s *linStream) check(sc *streamChunk) porcupine.CheckResult {
	timeout := s.budget.forChunk(len(sc.ops))
	if timeout <= 0 || sc.givenUp > 0 {
		return skipped
	}
	ops := make([]porcupine.Operation, len(sc.ops))
	for i, op := range sc.ops {
		ops[i] = porcupine.Operation{Input: op.kind, Output: op.value, Call: op.call, Return: op.ret}
	}
	return porcupine.CheckOperationsTimeout(newCounterModel(sc.init), ops, timeout)
}

// collect takes a checked chunk and judges, in order, every chunk whose turn has come.
func (s *linStream) collect(sc *streamChunk) {
	s.inflight--
	s.done[sc.k] = sc
	for {
		sc, ok := s.done[s.next]
		if !ok {
			return
		}
		delete(s.done, s.next)
		s.judge(sc)
		s.next++
	}
}

// judge counts a chunk's verdict. A start value carried from a chunk that turned out illegal or
// unchecked cannot be trusted: the chunk is checked again from an unknown value, so one violation
// is reported once rather than again in every later chunk.
func (s *linStream) judge(sc *streamChunk) {
	if sc.k > 0 && sc.fromCarry && s.prevResult != porcupine.Ok && sc.init.known {
		sc.init = unknownState
		sc.result = s.check(sc)
	}
	s.prevResult = sc.result
	s.keepForVis(sc)
	sm := &s.summary
	sm.Chunks++
	sm.LargestChunk = max(sm.LargestChunk, len(sc.ops))
	if sc.givenUp > 0 {
		if sm.GivenUpOps == 0 {
			s.lp.warn.add("%d operations from %s to %s had no point at which none was in flight (critical sections overlapping all along): too long a stretch for Porcupine, it was not checked for linearizability",
				sc.givenUp, seconds(sc.c.from-s.lp.start), seconds(sc.c.to-s.lp.start))
		}
		sm.GivenUpOps += sc.givenUp
	}
	switch sc.result {
	case porcupine.Illegal:
		s.illegal++
		if s.first == nil {
			s.first = sc
			sm.FirstIllegal = &Window{From: sc.c.from, To: sc.c.to}
		}
	case porcupine.Ok:
	default:
		sm.Unchecked++
	}
}

// keepForVis adds a judged chunk to the drawn window: from the start until a chunk is illegal,
// then from that chunk; whole chunks, but at most maxVisOps operations.
func (s *linStream) keepForVis(sc *streamChunk) {
	if sc.result == porcupine.Illegal && !s.visSet {
		s.vis, s.visInit, s.visFull, s.visSet = nil, sc.init, false, true
	}
	if len(s.vis) == 0 && !s.visFull {
		s.visInit = sc.init
		s.vis = append(s.vis, sc.ops[:min(len(sc.ops), maxVisOps)]...)
		s.visFull = len(sc.ops) >= maxVisOps
		return
	}
	if s.visFull || len(s.vis)+len(sc.ops) > maxVisOps {
		s.visFull = true
		return
	}
	s.vis = append(s.vis, sc.ops...)
}

// finish places what is left, closes the last chunk, waits for every verdict and sums them up.
func (s *linStream) finish() {
	s.place(math.MaxInt64)
	s.cut.finish()
	for s.inflight > 0 {
		s.collect(<-s.results)
	}
	sm := &s.summary
	sm.CheckDuration = time.Since(s.startedAt)
	switch {
	case s.illegal > 0:
		sm.Result = linIllegal
	case sm.Unchecked > 0:
		sm.Result = linUnknown
	default:
		sm.Result = linOK
	}
}

// streamOpHeap orders operations by call, then cut, as the chunks need them. It is a binary heap
// of its own rather than container/heap's, which would allocate for every operation.
type streamOpHeap []streamOp

func (h streamOpHeap) Len() int { return len(h) }

func (h streamOpHeap) less(i, j int) bool {
	if h[i].call != h[j].call {
		return h[i].call < h[j].call
	}
	return h[i].cut < h[j].cut
}

func (h *streamOpHeap) push(op streamOp) {
	*h = append(*h, op)
	for i := len(*h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		(*h)[i], (*h)[parent] = (*h)[parent], (*h)[i]
		i = parent
	}
}

func (h *streamOpHeap) pop() streamOp {
	old := *h
	top := old[0]
	n := len(old) - 1
	old[0] = old[n]
	old[n] = streamOp{}
	*h = old[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		(*h)[i], (*h)[m] = (*h)[m], (*h)[i]
		i = m
	}
	return top
}
