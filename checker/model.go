package checker

import (
	"fmt"
	"strconv"

	"github.com/anishathalye/porcupine"
)

// opKind is the input of a Porcupine operation on the counter.
type opKind uint8

const (
	// kindIncr is an applied increment; its output is the value it read.
	kindIncr opKind = iota
	// kindIncrMaybe is an unresolved increment whose read value is known: it may or may not have
	// been applied. Its output is the value it read.
	kindIncrMaybe
	// kindIncrBlind is an unresolved increment without a read value: it may have written any
	// value. Its output is ignored.
	kindIncrBlind
	// kindRead is a read of the counter; its output is the value read.
	kindRead
)

// counterState is the model's state: the counter's value, or unknown.
//
// Unknown exists for two reasons: a chunk whose starting value cannot be trusted (after an
// illegal chunk when there is no write log) is checked for internal consistency only, and a
// blind unresolved increment makes the value unknowable. An unknown state accepts the next
// operation's read value, which keeps the check sound (it accepts more, never less).
type counterState struct {
	value int64
	known bool
}

var unknownState = counterState{}

func knownState(v int64) counterState { return counterState{value: v, known: true} }

// newCounterModel returns the Porcupine model of the counter starting from init. The initial
// state is part of the model (Porcupine's Init takes no argument) so that each chunk of a
// history can start from its own value.
//
// An increment with output r is legal only in state r and leads to r+1: the workload reads the
// counter and writes read+1, so a correct lock makes it behave as an atomic increment. A read
// with output v is legal only in state v.
func newCounterModel(init counterState) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return init },
		Step: func(state, input, output any) (bool, any) {
			return counterStep(state.(counterState), input.(opKind), output.(int64))
		},
		Hash: func(state any) uint64 {
			s := state.(counterState)
			if !s.known {
				return 0x9e3779b97f4a7c15
			}
			return uint64(s.value) * 0xff51afd7ed558ccd
		},
		DescribeOperation: describeOperation,
		DescribeState: func(state any) string {
			s := state.(counterState)
			if !s.known {
				return "?"
			}
			return strconv.FormatInt(s.value, 10)
		},
		DescribeOperationMetadata: func(info any) string {
			if m, ok := info.(*opMeta); ok {
				return m.String()
			}
			return ""
		},
	}
}

// counterStep is the model's step function, separate from the closure so tests can call it.
func counterStep(s counterState, kind opKind, out int64) (bool, counterState) {
	switch kind {
	case kindIncr:
		if s.known && s.value != out {
			return false, s
		}
		return true, knownState(out + 1)
	case kindIncrMaybe:
		switch {
		case !s.known:
			// Applied or not, from any value: nothing is known afterwards either.
			return true, unknownState
		case s.value == out:
			// Choosing "applied" here is sound because the operation is open: Porcupine can
			// always linearize it later, where it is a no-op, if "not applied" fits better.
			return true, knownState(out + 1)
		default:
			return true, s
		}
	case kindIncrBlind:
		return true, unknownState
	case kindRead:
		if s.known && s.value != out {
			return false, s
		}
		return true, knownState(out)
	}
	return false, s
}

func describeOperation(input, output any) string {
	kind, _ := input.(opKind)
	out, _ := output.(int64)
	switch kind {
	case kindIncr:
		return fmt.Sprintf("incr %d→%d", out, out+1)
	case kindIncrMaybe:
		return fmt.Sprintf("incr? %d→%d (unresolved)", out, out+1)
	case kindIncrBlind:
		return "incr? (unresolved, value unknown)"
	case kindRead:
		return fmt.Sprintf("read %d", out)
	}
	return fmt.Sprintf("%v → %v", input, output)
}

// opMeta labels an operation in the visualization with where it came from.
type opMeta struct {
	process int
	client  int
	id      string
	how     string
}

func (m *opMeta) String() string {
	s := fmt.Sprintf("process %d, client %d", m.process, m.client)
	if m.id != "" {
		s += ", op " + m.id
	}
	if m.how != "" {
		s += ", " + m.how
	}
	return s
}
