package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// block frames payload as one block.
func block(payload []byte) []byte {
	b := append(make([]byte, blockHeaderLen), payload...)
	fillBlockHeader(b)
	return b
}

// file is a binary history of one block holding a valid meta record, then records.
func file(records ...[]byte) []byte {
	e := newEncoder()
	payload, err := e.appendRecord(nil, &Op{F: RunMeta, Process: HarnessProcess, Meta: &Meta{Format: FormatVersion, Backend: "redlock"}})
	if err != nil {
		panic(err)
	}
	for _, r := range records {
		payload = append(payload, r...)
	}
	return append(bytes.Clone(binaryHeader), block(payload)...)
}

// encoded is op as the encoder writes it, without the writer's validation.
func encoded(op Op) []byte {
	b, err := newEncoder().appendRecord(nil, &op)
	if err != nil {
		panic(err)
	}
	return b
}

func kind(t Type, f F) byte { return kindByte(t, f) }

// A binary history is read as strictly as a JSON-lines one: the same validation of every record,
// the meta record first, and bytes the writer never writes refused, each at its record.
func TestStrictBinaryReading(t *testing.T) {
	metaJSON := func(js string) []byte {
		return append([]byte{kind("", RunMeta), 0, 0, 0, byte(len(js))}, js...)
	}
	tests := []struct {
		name   string
		in     []byte
		record int
		says   string
	}{
		{"ok increment without its value", file(encoded(Op{Type: OK, F: Incr, ID: "p0-1"})), 2, "without the value it read"},
		{"write-log entry without seq", file(encoded(Op{Process: -1, Type: OK, F: WriteLog, ID: "p0-1", Value: Int64(1)})), 2, "seq"},
		{"unknown type code", file([]byte{5<<3 | 2, 0, 0, 0}), 2, "unknown type code 5"},
		{"unknown field bits", file([]byte{kind(Invoke, Incr), 0x80, 0x80, 0x01, 0, 0}), 2, "unknown field bits"},
		{"no meta record first", append(bytes.Clone(binaryHeader), block(encoded(Op{Type: Invoke, F: Acquire}))...), 1, "not the run's meta record"},
		{"a newer record format", append(bytes.Clone(binaryHeader), block(metaJSON(`{"format":4}`))...), 1, "format 4"},
		{"a meta field this version does not know", append(bytes.Clone(binaryHeader), block(metaJSON(`{"format":3,"frob":1}`))...), 1, "unknown field"},
		{"a string that was never defined", file([]byte{kind(Fail, Release), flagOwner, 0, 0, 5}), 2, "reference to string 5"},
		{"a record running past its block", file([]byte{kind(Invoke, Incr), flagID, 0, 0}), 2, "past the end"},
		{"a field marked present but empty", file([]byte{kind(Invoke, Acquire), flagToken, 0, 0, 0}), 2, "marked present is empty"},
		{"a process-relative id of the harness", file([]byte{kind(OK, WriteLog), flagID | flagValue | flagSeq, 0, 1, idOwnProcess, 3, 2, 2}), 2, "process-relative id"},
		{"an empty block", append(file(), block(nil)...), 2, "length 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tt.in))
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Record != tt.record || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("got %v, want a CorruptError at record %d saying %q", err, tt.record, tt.says)
			}
		})
	}
}

// A damaged block length is told from a cut tail: the header's own checksum says the length is
// wrong, where the length alone would say the block runs past the end of the file.
func TestDamagedLengthIsNotACut(t *testing.T) {
	in := append(file(), block(encoded(Op{Type: Invoke, F: Acquire}))...)
	at := len(in) - blockHeaderLen - len(encoded(Op{Type: Invoke, F: Acquire}))
	binary.LittleEndian.PutUint32(in[at:], 4000)
	_, err := Decode(bytes.NewReader(in))
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "header checksum") {
		t.Errorf("got %v, want a CorruptError about the block header", err)
	}
}

// Ids are numbers only when the number prints back as the same id.
func TestParseID(t *testing.T) {
	for id, want := range map[string]bool{"p3-17": true, "p0-0": true, "p03-1": false, "p3-017": false, "p-1-2": false,
		"p3-": false, "p3-1x": false, "q3-1": false, "p123456789012345678-1": true, "p1234567890123456789-1": false} {
		a, n, ok := parseID(id)
		if ok != want || (ok && formatID(nil, a, n) != id) {
			t.Errorf("parseID(%q) = %d, %d, %v", id, a, n, ok)
		}
	}
}
