package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Writer appends records to a history file as JSON lines. It is safe for concurrent use.
//
// Each record is written with a single write call and no user-space buffer, so a harness that
// crashes or is killed leaves a readable prefix of the history behind.
type Writer struct {
	mu  sync.Mutex
	f   *os.File
	buf bytes.Buffer
	err error
}

// Create creates (or truncates) the history file at path.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create history: %w", err)
	}
	return &Writer{f: f}, nil
}

// Append writes one record. After the first error every later call returns that error.
func (w *Writer) Append(op Op) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf.Reset()
	if err := json.NewEncoder(&w.buf).Encode(op); err != nil { // Encode adds the newline
		w.err = fmt.Errorf("encode history record: %w", err)
		return w.err
	}
	if _, err := w.f.Write(w.buf.Bytes()); err != nil {
		w.err = fmt.Errorf("write history: %w", err)
		return w.err
	}
	return nil
}

// Close syncs and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return w.err
	}
	serr := w.f.Sync()
	cerr := w.f.Close()
	w.f = nil
	return errors.Join(w.err, serr, cerr)
}

// CorruptError says where a history file stops making sense: a line that is not a record of this
// format, or a file that is not a history at all (Line 0).
type CorruptError struct {
	Path string
	Line int
	Err  error
}

func (e *CorruptError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: not a locktest history: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s:%d: corrupt history record: %v", e.Path, e.Line, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// ReadResult is a history read from a file.
type ReadResult struct {
	Ops []Op
	// Truncated is true when the last line was cut short (the harness died while writing it);
	// that line is dropped and the rest is usable.
	Truncated bool
}

// ReadFile reads a history file. A cut-short last line is tolerated (see ReadResult.Truncated);
// anything else that is not a record of this format is a *CorruptError (see Decode).
func ReadFile(path string) (ReadResult, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return ReadResult{}, &CorruptError{Path: path, Err: fmt.Errorf("it is a %s, not a file", kindOf(fi.Mode()))}
	}
	f, err := os.Open(path)
	if err != nil {
		return ReadResult{}, fmt.Errorf("open history: %w", err)
	}
	defer f.Close()
	res, err := Decode(f)
	var ce *CorruptError
	if errors.As(err, &ce) {
		ce.Path = path
	}
	return res, err
}

func kindOf(m os.FileMode) string {
	if m.IsDir() {
		return "directory"
	}
	return "special file (" + m.Type().String() + ")"
}

// maxLine bounds one record; the longest real ones (a meta record, a fault with many targets) are
// well under a kilobyte, so a longer line is not a history's.
const maxLine = 1 << 20

// Decode reads JSON-lines history records from r, strictly: every line must be one JSON object
// with only the fields of Op, a known type and f, and the fields its kind needs (an ok increment
// its value, a write-log entry its value and seq); the first record must be the run's meta record
// of this FormatVersion. A history of another schema would otherwise be read as records with
// empty fields and checked as if it meant something. The one thing tolerated is a cut-short last
// line after at least the meta record (the harness died while writing it): it is dropped and
// Truncated set.
func Decode(r io.Reader) (ReadResult, error) {
	var res ReadResult
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		b, err := readLine(br)
		if len(b) > 0 {
			complete := b[len(b)-1] == '\n'
			b = bytes.TrimSpace(b)
			op, derr := decodeRecord(b)
			if derr == nil && len(res.Ops) == 0 {
				derr = checkMeta(op)
			}
			switch {
			case derr == nil:
				res.Ops = append(res.Ops, op)
			case !complete && len(res.Ops) > 0 && err == io.EOF:
				res.Truncated = true
				return res, nil
			default:
				return res, &CorruptError{Line: line, Err: derr}
			}
		}
		if err == io.EOF {
			if len(res.Ops) == 0 {
				return res, &CorruptError{Err: errors.New("it is empty")}
			}
			return res, nil
		}
		if err != nil {
			return res, &CorruptError{Line: line, Err: err}
		}
	}
}

// readLine reads up to and including the next newline, refusing a line longer than maxLine (a
// binary file without newlines would otherwise be read whole into memory).
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		part, err := br.ReadSlice('\n')
		out = append(out, part...)
		if len(out) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return out, err
		}
	}
}

// decodeRecord parses one line into an Op and checks it has what its kind needs.
func decodeRecord(b []byte) (Op, error) {
	var op Op
	if len(b) == 0 || b[0] != '{' {
		return op, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&op); err != nil {
		return op, err
	}
	if dec.More() {
		return op, errors.New("more than one JSON value on the line")
	}
	return op, validate(op)
}

var knownF = map[F]bool{Acquire: true, Release: true, Incr: true, Read: true, WriteLog: true, WriteLogEnd: true, RunMeta: true, Nemesis: true}

// validate checks that a record has a known kind and the fields the checker relies on for it.
func validate(op Op) error {
	if !knownF[op.F] {
		return fmt.Errorf("unknown f %q", op.F)
	}
	switch op.Type {
	case Invoke, OK, Fail, Info:
	case "":
		if op.F != RunMeta {
			return fmt.Errorf("%s record without a type", op.F)
		}
	default:
		return fmt.Errorf("unknown type %q", op.Type)
	}
	switch {
	case op.F == RunMeta && op.Meta == nil:
		return errors.New("meta record without meta")
	case op.F != RunMeta && op.Meta != nil:
		return fmt.Errorf("%s record with meta", op.F)
	case op.F == Incr && op.ID == "":
		return errors.New("increment without an id")
	case op.F == Incr && op.Type == OK && op.Value == nil:
		return fmt.Errorf("ok increment %q without the value it read", op.ID)
	case op.F == Read && op.Type == OK && op.Value == nil:
		return errors.New("ok read without a value")
	case op.F == WriteLog && (op.Value == nil || op.Seq < 1 || op.ID == ""):
		return errors.New("write-log entry without an op id, a value or a seq from 1")
	case op.F == WriteLogEnd && op.LogLen == nil:
		return errors.New("write-log-end without log_len")
	case op.Fenced && (op.F != Incr || op.Type != Fail):
		return fmt.Errorf("a %s %s record marked fenced (only a failed increment can be)", op.Type, op.F)
	case op.LogLen != nil && *op.LogLen < 0:
		return errors.New("negative log_len")
	}
	return nil
}

// checkMeta checks that the first record is the run's meta record, of this format.
func checkMeta(op Op) error {
	switch {
	case op.F != RunMeta:
		return fmt.Errorf("the first record is a %s record, not the run's meta record", op.F)
	case op.Meta.Format == 0:
		return fmt.Errorf("written by an older locktest (history format 1); this one reads formats %d to %d: rerun the test", OldestFormat, FormatVersion)
	case op.Meta.Format < OldestFormat || op.Meta.Format > FormatVersion:
		return fmt.Errorf("written in history format %d; this locktest reads formats %d to %d", op.Meta.Format, OldestFormat, FormatVersion)
	}
	return nil
}
