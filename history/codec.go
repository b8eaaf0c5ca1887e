package history

// The binary history format (history.lkh), written by Writer and read by Reader.
//
// A history of millions of records must be small on disk, quick to read back and survive a
// harness that is killed mid-write. So:
//
//	file   = header block*
//	header = magic "\x89LKH\r\n\x1a\n" (8 bytes), container version (1 byte, 1)
//	block  = length (uint32 LE) | CRC-32C of the payload (uint32 LE)
//	         | CRC-32C of the preceding 8 bytes (uint32 LE) | payload (length bytes of records)
//
// The magic's first byte is not text and its CR LF and ^Z catch a file mangled as text, as PNG's
// do. The container version covers this framing and record encoding; the record schema has its
// own version, Meta.Format in the first record, as in the JSON-lines format. A block is written
// with one write call and holds whole records, so a killed writer leaves whole blocks and at most
// one cut block at the end: the reader drops that one (ReadResult.Truncated) and keeps the rest.
// The header's own checksum tells a damaged length (corruption) from a cut tail, which a length
// alone could not: a flipped length bit would otherwise look like a block running past the end
// of the file. A block whose payload does not match its checksum is corruption, never read.
//
// A record, packed with varints (zigzag for signed values) and with its optional fields in this
// order, each present only when its flag bit is set:
//
//	kind    byte: type<<3 | f&7, plus 0x80 when f ≥ 8 (types "", invoke, ok, fail, info; f as
//	        fCode numbers them; the high bit came with extend, and readers before it refuse such
//	        a record as one of an unknown type)
//	flags   uvarint: which optional fields follow (the flag constants below; unknown bits refused)
//	time    varint: delta from the previous record's time (the first: from 0)
//	process varint
//	client  varint: client - process (absent: the client is the process, the usual case)
//	id      uvarint tag, then: 0: n, the id is "p<process>-<n>"; 1: a, n, it is "p<a>-<n>";
//	        2: a string (ids like "p3-17" are most of a history's text, and each is new: as
//	        strings they would be defined, used twice, and gone from the window by the time the
//	        write log repeats them, so they are numbers)
//	value   varint: delta from the previous record's value (values rise a step at a time)
//	seq     varint: delta from the previous seq
//	owner   string
//	token   varint: delta from the previous token (uint64, wrapping)
//	deadline varint: delta from this record's time
//	error, fault: strings; targets: uvarint count, then strings; detail: string
//	log_len varint
//	meta    (meta records only, always) uvarint length, then the Meta as JSON
//
// A string is a uvarint r: 0 defines a new one (uvarint length, then its bytes); r ≥ 1 repeats the
// r-th most recently defined string. Only the last ringSize definitions can be referred to, so
// reader and writer hold a bounded table however long the history: owners, errors and fault names
// repeat, mostly close together, and one that fell out of the window is defined again.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
)

// binaryMagic starts every binary history; binaryHeader adds the container version.
var (
	binaryMagic  = []byte("\x89LKH\r\n\x1a\n")
	binaryHeader = append(append([]byte{}, binaryMagic...), containerVersion)
)

// containerVersion is the version of the framing and the record encoding above. Change it with
// any change to either; the record schema is versioned by FormatVersion.
const containerVersion = 1

const (
	blockHeaderLen = 12
	// maxBlock bounds a block: the writer cuts a block at blockTarget bytes, plus at most one
	// record of at most maxRecord, so a longer length is damage.
	maxBlock  = 1 << 20
	maxRecord = 256 << 10
	// ringSize is how many recent strings a record can refer back to.
	ringSize = 4096
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Flag bits of a record: which optional fields it has. The ones nearly every record of a long
// history uses come first, so the flags fit one byte.
const (
	flagID = 1 << iota
	flagValue
	flagOwner
	flagToken
	flagDeadline
	flagClient
	flagSeq
	flagError
	flagFenced
	flagFault
	flagTargets
	flagDetail
	flagLogLen
	flagSkipped
	flagsKnown = flagSkipped<<1 - 1
	// flagsRare are the fields of errors, faults and the harness's records (appendRare).
	flagsRare = flagError | flagFault | flagTargets | flagDetail | flagLogLen
)

// ID tags.
const (
	idOwnProcess = iota // "p<process>-<n>"
	idProcess           // "p<a>-<n>"
	idString
)

var (
	typeCodes = []Type{"", Invoke, OK, Fail, Info}
	fCodes    = []F{Acquire, Release, Incr, Read, WriteLog, WriteLogEnd, RunMeta, Nemesis, Extend}
)

// fCode numbers an F (-1 when unknown).
func fCode(f F) int {
	switch f {
	case Acquire:
		return 0
	case Release:
		return 1
	case Incr:
		return 2
	case Read:
		return 3
	case WriteLog:
		return 4
	case WriteLogEnd:
		return 5
	case RunMeta:
		return 6
	case Nemesis:
		return 7
	case Extend:
		return 8
	}
	return -1
}

// kindHighF marks a kind byte whose f code is 8 or above.
const kindHighF = 0x80

// kindByte packs a record's type and f.
func kindByte(t Type, f F) byte {
	c := fCode(f)
	k := byte(typeCode(t)<<3 | c&7)
	if c >= 8 {
		k |= kindHighF
	}
	return k
}

func typeCode(t Type) int {
	for i, c := range typeCodes {
		if c == t {
			return i
		}
	}
	return -1
}

// codecState is what a record is encoded relative to; writer and reader keep it alike.
type codecState struct {
	time, value, seq int64
	token            uint64
	ring             []string
	defined          uint64 // strings defined so far
}

func newCodecState() codecState { return codecState{ring: make([]string, ringSize)} }

// encoder packs records into a block's payload.
type encoder struct {
	codecState
	// recent maps each string of the window to its definition number, to find references.
	recent map[string]uint64
}

func newEncoder() *encoder {
	return &encoder{codecState: newCodecState(), recent: make(map[string]uint64, ringSize)}
}

// appendRecord appends op, which validate accepted, to b.
func (e *encoder) appendRecord(b []byte, op *Op) ([]byte, error) {
	var meta []byte
	if op.Meta != nil {
		var err error
		if meta, err = json.Marshal(op.Meta); err != nil {
			return b, fmt.Errorf("encode meta record: %w", err)
		}
	}
	b = append(b, kindByte(op.Type, op.F))
	b = binary.AppendUvarint(b, flagsOf(op))
	b = binary.AppendVarint(b, op.Time-e.time)
	e.time = op.Time
	b = binary.AppendVarint(b, int64(op.Process))
	if op.Client != op.Process {
		b = binary.AppendVarint(b, int64(op.Client)-int64(op.Process))
	}
	if op.ID != "" {
		b = e.appendID(b, op.ID, op.Process)
	}
	if op.Value != nil {
		b = binary.AppendVarint(b, *op.Value-e.value)
		e.value = *op.Value
	}
	if op.Seq != 0 {
		b = binary.AppendVarint(b, op.Seq-e.seq)
		e.seq = op.Seq
	}
	if op.Owner != "" {
		b = e.appendString(b, op.Owner)
	}
	if op.Token != 0 {
		b = binary.AppendVarint(b, int64(op.Token-e.token))
		e.token = op.Token
	}
	if op.Deadline != 0 {
		b = binary.AppendVarint(b, op.Deadline-op.Time)
	}
	return e.appendRare(b, op, meta), nil
}

// appendRare appends the fields of errors, faults and the harness's records.
func (e *encoder) appendRare(b []byte, op *Op, meta []byte) []byte {
	if op.Error != "" {
		b = e.appendString(b, op.Error)
	}
	if op.Fault != "" {
		b = e.appendString(b, op.Fault)
	}
	if len(op.Targets) > 0 {
		b = binary.AppendUvarint(b, uint64(len(op.Targets)))
		for _, t := range op.Targets {
			b = e.appendString(b, t)
		}
	}
	if op.Detail != "" {
		b = e.appendString(b, op.Detail)
	}
	if op.LogLen != nil {
		b = binary.AppendVarint(b, *op.LogLen)
	}
	if op.F == RunMeta {
		b = binary.AppendUvarint(b, uint64(len(meta)))
		b = append(b, meta...)
	}
	return b
}

func flagsOf(op *Op) uint64 {
	var f uint64
	set := func(present bool, bit uint64) {
		if present {
			f |= bit
		}
	}
	set(op.ID != "", flagID)
	set(op.Value != nil, flagValue)
	set(op.Owner != "", flagOwner)
	set(op.Token != 0, flagToken)
	set(op.Deadline != 0, flagDeadline)
	set(op.Client != op.Process, flagClient)
	set(op.Seq != 0, flagSeq)
	set(op.Error != "", flagError)
	set(op.Fenced, flagFenced)
	set(op.Fault != "", flagFault)
	set(len(op.Targets) > 0, flagTargets)
	set(op.Detail != "", flagDetail)
	set(op.LogLen != nil, flagLogLen)
	set(op.Skipped, flagSkipped)
	return f
}

func (e *encoder) appendID(b []byte, id string, process int) []byte {
	a, n, ok := parseID(id)
	switch {
	case ok && process >= 0 && a == uint64(process):
		return binary.AppendUvarint(append(b, idOwnProcess), n)
	case ok:
		return binary.AppendUvarint(binary.AppendUvarint(append(b, idProcess), a), n)
	}
	return e.appendString(append(b, idString), id)
}

// parseID splits an id of the form "p<a>-<n>", written in the one way formatID writes it back (no
// sign, no leading zeros), so that the round trip is exact.
func parseID(id string) (a, n uint64, ok bool) {
	if len(id) < 4 || id[0] != 'p' {
		return 0, 0, false
	}
	a, rest, ok := canonicalNumber(id[1:])
	if !ok || len(rest) < 2 || rest[0] != '-' {
		return 0, 0, false
	}
	n, rest, ok = canonicalNumber(rest[1:])
	return a, n, ok && rest == ""
}

// canonicalNumber reads a decimal number of up to 18 digits (so it cannot overflow) without
// leading zeros from the start of s.
func canonicalNumber(s string) (uint64, string, bool) {
	i := 0
	var v uint64
	for ; i < len(s) && i < 19 && s[i] >= '0' && s[i] <= '9'; i++ {
		v = v*10 + uint64(s[i]-'0')
	}
	if i == 0 || i > 18 || (s[0] == '0' && i > 1) {
		return 0, s, false
	}
	return v, s[i:], true
}

func formatID(scratch []byte, a, n uint64) string {
	b := append(scratch[:0], 'p')
	b = strconv.AppendUint(b, a, 10)
	b = append(b, '-')
	return string(strconv.AppendUint(b, n, 10))
}

// appendString refers back to s if it is in the window, else defines it.
func (e *encoder) appendString(b []byte, s string) []byte {
	if at, ok := e.recent[s]; ok {
		return binary.AppendUvarint(b, e.defined-at)
	}
	b = binary.AppendUvarint(b, 0)
	b = binary.AppendUvarint(b, uint64(len(s)))
	b = append(b, s...)
	slot := e.defined % ringSize
	if old := e.ring[slot]; e.defined >= ringSize && e.recent[old] == e.defined-ringSize {
		delete(e.recent, old)
	}
	e.ring[slot] = s
	e.recent[s] = e.defined
	e.defined++
	return b
}

// fillBlockHeader fills the first blockHeaderLen bytes of block, whose payload follows them.
func fillBlockHeader(block []byte) {
	payload := block[blockHeaderLen:]
	binary.LittleEndian.PutUint32(block[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(block[4:], crc32.Checksum(payload, castagnoli))
	binary.LittleEndian.PutUint32(block[8:], crc32.Checksum(block[:8], castagnoli))
}

// errPastEnd: a record claims more bytes than its block has.
var errPastEnd = errors.New("record runs past the end of its block")
