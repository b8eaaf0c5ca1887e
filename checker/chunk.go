package checker

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

// carry is the value a legal chunk leaves the counter at, or unknown when it held an unresolved
// increment.
func (c *chunk) carry() counterState {
	if c.open || !c.hasTop {
		return unknownState
	}
	return knownState(c.top)
}
