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

// CorruptError says where a history file stops making sense.
type CorruptError struct {
	Path string
	Line int
	Err  error
}

func (e *CorruptError) Error() string {
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
// a malformed line anywhere else is a *CorruptError.
func ReadFile(path string) (ReadResult, error) {
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

// Decode reads JSON-lines history records from r; see ReadFile.
func Decode(r io.Reader) (ReadResult, error) {
	var res ReadResult
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			complete := b[len(b)-1] == '\n'
			b = bytes.TrimSpace(b)
			if len(b) > 0 {
				var op Op
				if jerr := json.Unmarshal(b, &op); jerr != nil {
					if !complete {
						res.Truncated = true
						return res, nil
					}
					return res, &CorruptError{Line: line, Err: jerr}
				}
				res.Ops = append(res.Ops, op)
			}
		}
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("read history: %w", err)
		}
	}
}
