package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/locktest/locktest/history"
)

// ProtocolError is a worker that broke the protocol: a line that is not an event it may send.
// The run stops, since a history with a record missing or made up cannot be checked.
type ProtocolError struct {
	Process int
	Client  string // the client program (--client-cmd), or "built-in worker"
	Line    string // what it sent, cut to maxLineShown
	Err     error
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("client process %d (%s) broke the worker protocol (docs/client-protocol.md): %v; it sent: %s",
		e.Process, e.Client, e.Err, e.Line)
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// maxLineShown is how much of an offending line an error quotes.
const maxLineShown = 300

// workerOps are the records a worker may send.
var workerOps = []history.F{history.Acquire, history.Release, history.Extend, history.Incr}

// eventReader decodes and checks one worker's events, in order.
type eventReader struct {
	process int
	ready   bool
	// One strict decoder serves every line, fed a line at a time: a decoder per line would cost
	// its allocation and its buffer's on the coordinator's hot path.
	line lineSource
	dec  *json.Decoder
}

// lineSource is the decoder's input: the current line, then the end of the input.
type lineSource struct{ b []byte }

func (s *lineSource) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// decode reads one line of worker n's output: a well-formed event of a kind it may send now, whose
// records are its own and complete enough to be checked.
func (r *eventReader) decode(line []byte) (Event, error) {
	var e Event
	if r.dec == nil {
		r.dec = json.NewDecoder(&r.line)
		r.dec.DisallowUnknownFields()
	}
	r.line.b = line
	if err := r.dec.Decode(&e); err != nil {
		return e, fmt.Errorf("not an event: %w", err)
	}
	if r.dec.More() {
		return e, errors.New("more than one JSON value on the line")
	}
	if !r.ready {
		if e.Kind != EvReady {
			return e, fmt.Errorf("the first event must be ready, got %q", e.Kind)
		}
		if e.Protocol != ProtocolVersion {
			return e, fmt.Errorf("ready names protocol %d; this locktest speaks %d", e.Protocol, ProtocolVersion)
		}
		r.ready = true
	}
	if e.Process != r.process {
		return e, fmt.Errorf("process %d in an event of process %d", e.Process, r.process)
	}
	switch e.Kind {
	case EvReady:
		if e.Op != nil {
			return e, errors.New("a ready event carries no record")
		}
	case EvHook:
		if !slices.Contains(Hooks, e.Hook) {
			return e, fmt.Errorf("unknown hook %q", e.Hook)
		}
	case EvOp:
		op := e.Op
		switch {
		case op == nil:
			return e, errors.New("an op event without its op")
		case op.Process != r.process:
			return e, fmt.Errorf("a record of process %d from process %d", op.Process, r.process)
		case !slices.Contains(workerOps, op.F):
			return e, fmt.Errorf("a %q record (a worker sends acquire, release, extend and incr)", op.F)
		}
		if err := history.Validate(op); err != nil {
			return e, err
		}
	default:
		return e, fmt.Errorf("unknown event kind %q", e.Kind)
	}
	return e, nil
}

// brokenOnce keeps the first protocol error of a run and says that there was one.
type brokenOnce struct {
	once   sync.Once
	err    error
	broken chan struct{}
}

func newBrokenOnce() *brokenOnce { return &brokenOnce{broken: make(chan struct{})} }

func (b *brokenOnce) set(err error) {
	b.once.Do(func() {
		b.err = err
		close(b.broken)
	})
}

// quote cuts a line for an error message.
func quote(line []byte) string {
	if len(line) > maxLineShown {
		return fmt.Sprintf("%q… (%d bytes)", line[:maxLineShown], len(line))
	}
	return fmt.Sprintf("%q", line)
}
