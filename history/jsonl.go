package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxLine bounds one record; the longest real ones (a meta record, a fault with many targets) are
// well under a kilobyte, so a longer line is not a history's.
const maxLine = 1 << 20

// jsonlSource decodes the JSON-lines format locktest wrote before the binary one (history.jsonl):
// one JSON object per line.
type jsonlSource struct {
	br   *bufio.Reader
	line int
	eof  bool
}

func newJSONLSource(br *bufio.Reader) *jsonlSource { return &jsonlSource{br: br} }

func (s *jsonlSource) corruptAt(err error) *CorruptError {
	return &CorruptError{Line: s.line, Err: err}
}

func (s *jsonlSource) next(op *Op) error {
	for !s.eof {
		s.line++
		b, err := readLine(s.br)
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			return s.corruptAt(err)
		}
		if len(b) == 0 {
			continue // only at the end: every other line has at least its newline
		}
		complete := b[len(b)-1] == '\n'
		derr := decodeRecord(bytes.TrimSpace(b), op)
		switch {
		case derr == nil:
			return nil
		case !complete:
			return &cutShort{at: s.corruptAt(derr)}
		default:
			return s.corruptAt(derr)
		}
	}
	return io.EOF
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

// decodeRecord parses one line into op and checks it has what its kind needs.
func decodeRecord(b []byte, op *Op) error {
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(op); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	return validate(op)
}

// JSONLWriter writes records as JSON lines, the schema of history.jsonl, which Decode reads back
// (locktest export --jsonl).
type JSONLWriter struct {
	enc *json.Encoder
}

// NewJSONLWriter writes to w; buffer w yourself.
func NewJSONLWriter(w io.Writer) *JSONLWriter { return &JSONLWriter{enc: json.NewEncoder(w)} }

// Write writes one record as one line.
func (j *JSONLWriter) Write(op Op) error { return j.enc.Encode(op) }
