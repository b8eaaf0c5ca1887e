package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// CorruptError says where a history file stops making sense: a record that is not one of this
// format, or a file that is not a history at all (Line and Record 0). A JSON-lines history names
// the line; a binary one the record (from 1) and the byte offset of the block holding it.
type CorruptError struct {
	Path   string
	Line   int   // JSON lines: the line, from 1
	Record int   // binary: the record, from 1
	Offset int64 // binary: where the record's block starts in the file
	Err    error
}

func (e *CorruptError) Error() string {
	switch {
	case e.Record > 0:
		return fmt.Sprintf("%s: record %d (block at byte %d): corrupt history: %v", e.Path, e.Record, e.Offset, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: corrupt history record: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: not a locktest history: %v", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Remedy says how to use the intact part of the file before the damage ("" when nothing before it
// is usable): a history cut there reads as one whose harness died at that point.
func (e *CorruptError) Remedy() string {
	switch {
	case e.Record > 0 && e.Offset > int64(len(binaryHeader)):
		return fmt.Sprintf("the %d bytes before its block are intact: cut the file there (truncate -s %d %s) to analyze that prefix", e.Offset, e.Offset, e.Path)
	case e.Line > 1:
		return "the lines before it are intact: cut the file there to analyze that prefix"
	}
	return ""
}

// ReadResult is a history read from a file.
type ReadResult struct {
	Ops []Op
	// Truncated is true when the last record was cut short (the harness died while writing it);
	// that record is dropped and the rest is usable.
	Truncated bool
}

// source is one on-disk format's record decoder. next decodes into op, which is zero (records are
// big, so they are not passed around by value); it returns io.EOF at a clean end, a *cutShort
// when the file ends inside a record, and a *CorruptError (without Path) for anything else.
// corruptAt builds the error for a problem found in the record next last returned.
type source interface {
	next(op *Op) error
	corruptAt(err error) *CorruptError
}

// cutShort says the file ends inside a record. What reads it decides: after the meta record it
// is a tolerated truncation, before it the file is no history (at says where).
type cutShort struct{ at *CorruptError }

func (c *cutShort) Error() string { return c.at.Error() }

// Reader returns a history's records one at a time, whichever of the two formats it is in (told by
// its first bytes, not its name), so a long history need not be held in memory. It is as strict as
// Decode: the first record must be the meta record of a readable FormatVersion and every record
// must be complete and of a known kind.
type Reader struct {
	path      string
	closer    io.Closer
	br        *bufio.Reader
	src       source
	n         int // records returned
	truncated bool
	err       error // sticky: io.EOF or the error that ended the reading
	// cur is what the source decodes into: a field, so that it need not escape to the heap
	// through the source interface for every record.
	cur Op
}

// Open opens a history file for reading. A directory or special file is a *CorruptError.
func Open(path string) (*Reader, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, &CorruptError{Path: path, Err: fmt.Errorf("it is a %s, not a file", kindOf(fi.Mode()))}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	r := NewReader(f)
	r.path, r.closer = path, f
	return r, nil
}

// NewReader reads a history from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 1<<16)}
}

// Next returns the next record, or io.EOF after the last one (also after a cut-short last record:
// see Truncated). Every other error is final and, when the content is at fault, a *CorruptError.
func (r *Reader) Next() (Op, error) {
	op, err := r.read()
	if err != nil {
		return Op{}, err
	}
	return *op, nil
}

// read is Next without the copy: the record it points to is overwritten by the next call.
func (r *Reader) read() (*Op, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.cur = Op{}
	if err := r.next(&r.cur); err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) {
			ce.Path = r.path
		}
		r.err = err
		return nil, err
	}
	r.n++
	return &r.cur, nil
}

func (r *Reader) next(op *Op) error {
	if r.src == nil {
		src, err := r.detect()
		if err != nil {
			return err
		}
		r.src = src
	}
	err := r.src.next(op)
	if err == nil {
		if r.n == 0 {
			if err := checkMeta(op); err != nil {
				return r.src.corruptAt(err)
			}
		}
		return nil
	}
	var cut *cutShort
	switch {
	case errors.As(err, &cut) && r.n > 0:
		r.truncated = true
		return io.EOF
	case errors.As(err, &cut):
		return cut.at // not even the meta record is whole: nothing to read
	case err == io.EOF && r.n == 0:
		return &CorruptError{Err: errors.New("it is empty")}
	}
	return err
}

// detect tells the two formats apart by the file's first bytes.
func (r *Reader) detect() (source, error) {
	head, err := r.br.Peek(len(binaryHeader))
	switch {
	case len(head) > 0 && bytes.HasPrefix(binaryMagic, head[:min(len(head), len(binaryMagic))]):
		return newBinarySource(r.br)
	case err != nil && err != io.EOF && len(head) == 0:
		return nil, fmt.Errorf("read history: %w", err)
	}
	return newJSONLSource(r.br), nil
}

// Truncated reports whether the history ended inside a record (known once Next returned io.EOF).
func (r *Reader) Truncated() bool { return r.truncated }

// Close closes the file Open opened.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	c := r.closer
	r.closer = nil
	return c.Close()
}

// ReadFile reads a history file of either format. A cut-short last record is tolerated (see
// ReadResult.Truncated); anything else that is not a record of this format is a *CorruptError
// (see Decode).
func ReadFile(path string) (ReadResult, error) {
	r, err := Open(path)
	if err != nil {
		return ReadResult{}, err
	}
	defer r.Close()
	return readAll(r)
}

// Decode reads a history of either format from r, strictly: every record must be complete, of a
// known type and f, with only the fields of Op and those its kind needs (an ok increment its
// value, a write-log entry its value and seq); the first record must be the run's meta record of a
// FormatVersion this package reads. A history of another schema would otherwise be read as records
// with empty fields and checked as if it meant something. The one thing tolerated is a cut-short
// last record after at least the meta record (the harness died while writing it): it is dropped
// and Truncated set. Malformed input is a *CorruptError.
func Decode(r io.Reader) (ReadResult, error) {
	return readAll(NewReader(r))
}

func readAll(r *Reader) (ReadResult, error) {
	var res ReadResult
	for {
		op, err := r.Next()
		if err == io.EOF {
			res.Truncated = r.Truncated()
			return res, nil
		}
		if err != nil {
			return res, err
		}
		res.Ops = append(res.Ops, op)
	}
}

func kindOf(m os.FileMode) string {
	if m.IsDir() {
		return "directory"
	}
	return "special file (" + m.Type().String() + ")"
}

// Validate checks that a record has a known kind and the fields the checker relies on for it:
// what a writer refuses (an external client's records are checked with it before they are
// written).
func Validate(op *Op) error { return validate(op) }

// validate checks that a record has a known kind and the fields the checker relies on for it.
func validate(op *Op) error {
	if fCode(op.F) < 0 {
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
	case op.F == Extend && op.Type == OK && op.Deadline == 0:
		return errors.New("ok extend without the lease's new deadline")
	case op.F == WriteLogEnd && op.LogLen == nil:
		return errors.New("write-log-end without log_len")
	case op.Fenced && (op.F != Incr || op.Type != Fail):
		return fmt.Errorf("a %s %s record marked fenced (only a failed increment can be)", op.Type, op.F)
	case op.Skipped && (op.F != Incr || op.Type != Fail || op.Fenced):
		return fmt.Errorf("a %s %s record marked skipped (only a failed increment the storage did not fence can be)", op.Type, op.F)
	case op.LogLen != nil && *op.LogLen < 0:
		return errors.New("negative log_len")
	}
	return nil
}

// checkMeta checks that the first record is the run's meta record, of a format this package reads.
func checkMeta(op *Op) error {
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

// File is a history file read record by record, as often as a streaming check needs
// (checker.Source): each Scan reads it again from the start.
type File struct {
	Path string
	// Truncated is set by a Scan that ended at a cut-short last record.
	Truncated bool
	// Progress, if set, is told how far each Scan has read: its pass (1 for the first Scan), the
	// bytes read and the file's size, at every percent or so and at the end. A long history takes
	// minutes to check, read several times over.
	Progress func(pass int, read, size int64)
	passes   int
}

// progressReader counts what is read from r and reports it every step bytes.
type progressReader struct {
	r          io.Reader
	read, next int64
	step, size int64
	report     func(read, size int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if p.read >= p.next || err == io.EOF {
		p.next = p.read + p.step
		p.report(p.read, p.size)
	}
	return n, err
}

// Scan calls f with every record of the file in order; f's error stops it and is returned. The
// record is f's only during the call.
func (h *File) Scan(f func(*Op) error) error {
	r, err := Open(h.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	if h.Progress != nil {
		h.passes++
		pass := h.passes
		var size int64
		if fi, err := os.Stat(h.Path); err == nil {
			size = fi.Size()
		}
		// Nothing was read yet: the buffer can take the counting reader in the file's place.
		r.br.Reset(&progressReader{r: r.closer.(io.Reader), step: max(size/100, 1<<20), size: size,
			report: func(read, size int64) { h.Progress(pass, read, size) }})
	}
	for {
		// The reader's own record, not a copy: f may let it escape, and a copy would then cost an
		// allocation per record.
		op, err := r.read()
		if err == io.EOF {
			h.Truncated = r.Truncated()
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(op); err != nil {
			return err
		}
	}
}
