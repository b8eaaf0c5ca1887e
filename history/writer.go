package history

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Writer appends records to a history file in the binary format (see codec.go). It is safe for
// concurrent use.
//
// Records are buffered, since a write call per record would cost more than encoding it, and
// written as one block (one write call) when blockTarget bytes are pending, flushEvery after the
// oldest pending record arrived, and at Close. A harness that crashes or is killed therefore leaves
// a readable prefix of whole blocks, possibly a cut last one that readers drop, and loses at most
// the last flushEvery of records.
type Writer struct {
	mu    sync.Mutex
	f     *os.File
	enc   *encoder
	block []byte // the pending block: room for its header, then its records
	// target is the pending size that makes a block: blockTarget (smaller in tests, for files
	// of many blocks).
	target int
	timer  *time.Timer
	armed  bool // the timer will flush the pending records
	err    error
	// broken says a write failed: the file's end is unknown, so nothing more is written to it.
	broken bool
}

const (
	blockTarget = 64 << 10
	flushEvery  = 100 * time.Millisecond
)

// Create creates (or truncates) the history file at path and writes its header.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create history: %w", err)
	}
	if _, err := f.Write(binaryHeader); err != nil {
		f.Close()
		return nil, fmt.Errorf("write history: %w", err)
	}
	w := &Writer{f: f, enc: newEncoder(), target: blockTarget, block: make([]byte, blockHeaderLen, blockTarget+blockHeaderLen+4096)}
	w.timer = time.AfterFunc(time.Hour, w.timedFlush)
	w.timer.Stop()
	return w, nil
}

// Append adds one record. A record readers would refuse (see Decode) is refused here. After the
// first error every later call returns that error.
func (w *Writer) Append(op Op) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.err != nil:
		return w.err
	case w.f == nil:
		return errors.New("write history: the writer is closed")
	}
	if err := validate(&op); err != nil {
		w.err = fmt.Errorf("history record refused: %w", err)
		return w.err
	}
	start := len(w.block)
	b, err := w.enc.appendRecord(w.block, &op)
	if err == nil && len(b)-start > maxRecord {
		err = fmt.Errorf("history record of %d bytes, more than %d", len(b)-start, maxRecord)
	}
	if err != nil {
		// The encoder's state may be part-way through this record: nothing after it can be
		// written, but what came before is flushed at Close.
		w.block = b[:start]
		w.err = err
		return err
	}
	w.block = b
	if len(w.block) >= w.target {
		return w.flush()
	}
	if !w.armed {
		w.armed = true
		w.timer.Reset(flushEvery)
	}
	return nil
}

// Flush writes the pending records now, as one block: what was appended before it survives
// whatever happens to the writer after.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.broken:
		return w.err
	case w.f == nil:
		return errors.New("write history: the writer is closed")
	}
	if err := w.flush(); err != nil {
		return err
	}
	return w.err
}

// flush writes the pending records as one block. w.mu is held.
func (w *Writer) flush() error {
	if len(w.block) == blockHeaderLen {
		return nil
	}
	fillBlockHeader(w.block)
	_, err := w.f.Write(w.block)
	w.block = w.block[:blockHeaderLen]
	if err != nil {
		w.broken = true
		if w.err == nil {
			w.err = fmt.Errorf("write history: %w", err)
		}
	}
	return w.err
}

func (w *Writer) timedFlush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	if w.f != nil && !w.broken {
		w.flush()
	}
}

// Close writes the pending records, syncs and closes the file. It returns the first error of the
// writer's life.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return w.err
	}
	w.timer.Stop()
	var ferr error
	if !w.broken {
		ferr = w.flush()
	}
	serr := w.f.Sync()
	cerr := w.f.Close()
	w.f = nil
	if w.err != nil {
		return w.err
	}
	return errors.Join(ferr, serr, cerr)
}
