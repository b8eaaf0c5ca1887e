package checker

import (
	"cmp"
	"math"
	"slices"
)

// linOp is one operation handed to Porcupine, kept compact because a long history has millions.
type linOp struct {
	call int64
	ret  int64 // math.MaxInt64 for open (unresolved) operations
	// cut is the end used to find quiescent points. For an open operation it is when its client
	// gave up: the operation stays open inside its chunk, where Porcupine may linearize it last,
	// but it must not stop the rest of the history from being cut.
	cut   int64
	kind  opKind
	value int64 // read value (the model's output)
	src   int32 // >= 0: index into run.incrs; < 0: -1-index into run.reads
}

// linOps builds the operations Porcupine checks: applied and unresolved increments and the
// harness's reads, ordered by call. Increments that surely had no effect are left out.
func (r *run) linOps() []linOp {
	ops := make([]linOp, 0, len(r.incrs)+len(r.reads))
	for i := range r.incrs {
		in := &r.incrs[i]
		op := linOp{call: in.call, ret: in.ret, cut: in.ret, kind: kindIncr, value: in.read, src: int32(i)}
		switch in.outcome {
		case outNotApplied:
			continue
		case outUnresolved:
			op.kind, op.cut = kindIncrMaybe, in.end
			if !in.hasRead {
				op.kind, op.value = kindIncrBlind, 0
			}
		}
		ops = append(ops, op)
	}
	for i, rd := range r.reads {
		ops = append(ops, linOp{call: rd.call, ret: rd.ret, cut: rd.ret, kind: kindRead, value: rd.value, src: int32(-1 - i)})
	}
	slices.SortFunc(ops, func(a, b linOp) int {
		if c := cmp.Compare(a.call, b.call); c != 0 {
			return c
		}
		return cmp.Compare(a.cut, b.cut)
	})
	return ops
}

// chunk is a run of consecutive operations (by call) that is checked on its own.
type chunk struct {
	lo, hi   int   // ops[lo:hi]
	from, to int64 // earliest call, latest (finite) end
	minSeq   int64 // lowest write-log seq among its applied increments, 0 if none
	maxSeq   int64 // highest, 0 if none
	open     bool  // holds an unresolved increment
	top      int64 // the highest value it leaves the counter at, if hasTop
	hasTop   bool
}

func (c *chunk) size() int { return c.hi - c.lo }

// cutChunks cuts ops (sorted by call) at quiescent points and merges the pieces into chunks of
// about target operations.
//
// A quiescent point lies before an operation whose call comes strictly after every earlier
// operation's end: nothing is in flight there, so every linearization orders all earlier
// operations before all later ones, and the two sides can be checked separately given the value
// of the counter between them. Porcupine treats intervals as closed, so an operation returning at
// t and one called at t are concurrent and no cut is made between them. Pieces are never split;
// a piece larger than target (the lock let critical sections overlap) becomes a chunk by itself.
func cutChunks(ops []linOp, target int) []chunk {
	var bounds []int // starts of quiescent pieces, then len(ops)
	end := int64(math.MinInt64)
	for i := range ops {
		if i == 0 || end < ops[i].call {
			bounds = append(bounds, i)
		}
		end = max(end, ops[i].cut)
	}
	bounds = append(bounds, len(ops))
	var chunks []chunk
	lo := 0
	for k := 1; k < len(bounds); k++ {
		b := bounds[k]
		if b == len(ops) {
			chunks = append(chunks, chunk{lo: lo, hi: b})
			break
		}
		// Close the chunk here if it is big enough, or if the next piece would make it too big
		// (so a huge piece does not drag small neighbours into an expensive check).
		if size, next := b-lo, bounds[k+1]-b; size >= target || size+next > target {
			chunks = append(chunks, chunk{lo: lo, hi: b})
			lo = b
		}
	}
	return chunks
}

// describeChunks fills in each chunk's time window and what it did to the counter.
func (r *run) describeChunks(ops []linOp, chunks []chunk) {
	for k := range chunks {
		c := &chunks[k]
		c.from, c.to = math.MaxInt64, math.MinInt64
		for _, op := range ops[c.lo:c.hi] {
			c.from = min(c.from, op.call)
			c.to = max(c.to, op.cut)
			var v int64
			switch op.kind {
			case kindIncr:
				v = op.value + 1
				if seq := r.incrs[op.src].seq; seq > 0 {
					if c.minSeq == 0 || seq < c.minSeq {
						c.minSeq = seq
					}
					c.maxSeq = max(c.maxSeq, seq)
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
	}
}

// valueBefore is the counter's value just before the write with the given seq was applied: the
// value written by the last log entry before it, or the initial value if there is none.
func (r *run) valueBefore(seq int64) int64 {
	i, _ := slices.BinarySearchFunc(r.log, seq, func(e logEntry, s int64) int { return cmp.Compare(e.seq, s) })
	if i == 0 {
		return r.initial
	}
	return r.log[i-1].value
}

// initialStates gives each chunk the counter value to start from, assuming every earlier chunk
// is legal; fromCarry marks the chunks whose start depends on that assumption.
//
// The write log is the best source: it says what the storage held before the chunk's first
// applied write, whatever happened in earlier chunks, so a violation in one chunk does not
// cascade into the next. Without it (or for a chunk that wrote nothing), the value is carried
// from the previous chunk: a legal chunk of definite operations leaves the counter at the highest
// value it read or wrote, since the counter only rises in a legal linearization.
func (r *run) initialStates(chunks []chunk) (inits []counterState, fromCarry []bool) {
	inits = make([]counterState, len(chunks))
	fromCarry = make([]bool, len(chunks))
	carry := knownState(r.initial)
	var prevMaxSeq int64
	for k := range chunks {
		c := &chunks[k]
		switch {
		case r.hasLog && c.minSeq > 0:
			inits[k] = knownState(r.valueBefore(c.minSeq))
		case r.hasLog && prevMaxSeq > 0:
			inits[k] = knownState(r.valueBefore(prevMaxSeq + 1))
		default:
			inits[k], fromCarry[k] = carry, k > 0
		}
		prevMaxSeq = max(prevMaxSeq, c.maxSeq)
		carry = c.carry()
	}
	return inits, fromCarry
}

// carry is the value a legal chunk leaves the counter at, or unknown when it held an unresolved
// increment.
func (c *chunk) carry() counterState {
	if c.open || !c.hasTop {
		return unknownState
	}
	return knownState(c.top)
}
