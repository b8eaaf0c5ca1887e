package history

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// binarySource decodes the binary format (see codec.go) block by block.
type binarySource struct {
	br       *bufio.Reader
	off      int64 // file offset of the next block
	blockOff int64 // file offset of the current block
	block    []byte
	c        cursor // over the current block's payload
	records  int    // records decoded so far
	st       codecState
	hdr      [blockHeaderLen]byte
	ints     []int64 // a slab for Value and LogLen, so a record does not cost an allocation each
	scratch  [48]byte
}

func newBinarySource(br *bufio.Reader) (*binarySource, error) {
	head := make([]byte, len(binaryHeader))
	n, err := io.ReadFull(br, head)
	switch {
	case err == io.ErrUnexpectedEOF:
		return nil, &CorruptError{Err: errors.New("it ends inside its header (the harness died as it created it)")}
	case err != nil:
		return nil, fmt.Errorf("read history: %w", err)
	case head[len(binaryMagic)] != containerVersion:
		return nil, &CorruptError{Err: fmt.Errorf("binary history of container version %d; this locktest reads version %d: use the locktest that wrote it (its locktest export --jsonl gives a form any version reads)",
			head[len(binaryMagic)], containerVersion)}
	}
	return &binarySource{br: br, off: int64(n), blockOff: int64(n), st: newCodecState()}, nil
}

func (s *binarySource) corruptAt(err error) *CorruptError {
	return &CorruptError{Record: s.records, Offset: s.blockOff, Err: err}
}

func (s *binarySource) next(op *Op) error {
	if s.c.done() {
		if err := s.readBlock(); err != nil {
			return err
		}
	}
	s.records++
	err := s.decodeRecord(op)
	if err == nil {
		err = validate(op)
	}
	if err != nil {
		return s.corruptAt(err)
	}
	return nil
}

// readBlock reads and checks the next block. A block cut short by the end of the file is a
// *cutShort; one whose header or payload fails its checksum is corruption.
func (s *binarySource) readBlock() error {
	s.blockOff = s.off
	n, err := io.ReadFull(s.br, s.hdr[:])
	switch {
	case err == io.EOF:
		return io.EOF
	case err == io.ErrUnexpectedEOF:
		return s.cut("a block header")
	case err != nil:
		return s.corruptNext(fmt.Errorf("read history: %w", err))
	}
	s.off += int64(n)
	length := binary.LittleEndian.Uint32(s.hdr[0:])
	switch {
	case crc32.Checksum(s.hdr[:8], castagnoli) != binary.LittleEndian.Uint32(s.hdr[8:]):
		return s.corruptNext(errors.New("block header checksum mismatch: the file is damaged here"))
	case length == 0 || length > maxBlock:
		return s.corruptNext(fmt.Errorf("block length %d out of range", length))
	}
	if cap(s.block) < int(length) {
		s.block = make([]byte, length, max(int(length), 64<<10))
	}
	s.block = s.block[:length]
	n, err = io.ReadFull(s.br, s.block)
	s.off += int64(n)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return s.cut("a block")
	case err != nil:
		return s.corruptNext(fmt.Errorf("read history: %w", err))
	case crc32.Checksum(s.block, castagnoli) != binary.LittleEndian.Uint32(s.hdr[4:]):
		return s.corruptNext(errors.New("block checksum mismatch: the file is damaged here"))
	}
	s.c = cursor{b: s.block}
	return nil
}

// corruptNext is an error about the block that holds the next record.
func (s *binarySource) corruptNext(err error) *CorruptError {
	return &CorruptError{Record: s.records + 1, Offset: s.blockOff, Err: err}
}

func (s *binarySource) cut(what string) error {
	return &cutShort{at: s.corruptNext(fmt.Errorf("the file ends inside %s", what))}
}

// decodeRecord decodes the record at the cursor (see codec.go for the layout).
func (s *binarySource) decodeRecord(op *Op) error {
	c, st := &s.c, &s.st
	kind := c.byte()
	f := int(kind & 7)
	if kind&kindHighF != 0 {
		kind &^= kindHighF
		f += 8
	}
	if int(kind>>3) >= len(typeCodes) {
		return fmt.Errorf("unknown type code %d", kind>>3)
	}
	if f >= len(fCodes) {
		return fmt.Errorf("unknown f code %d", f)
	}
	op.Type, op.F = typeCodes[kind>>3], fCodes[f]
	flags := c.uvarint()
	if flags&^flagsKnown != 0 {
		return fmt.Errorf("unknown field bits %#x", flags&^flagsKnown)
	}
	st.time += c.varint()
	op.Time = st.time
	op.Process = int(c.varint())
	op.Client = op.Process
	if flags&flagClient != 0 {
		op.Client += int(c.varint())
	}
	if flags&flagID != 0 {
		op.ID = s.id(op.Process)
	}
	if flags&flagValue != 0 {
		st.value += c.varint()
		op.Value = s.int64(st.value)
	}
	if flags&flagSeq != 0 {
		st.seq += c.varint()
		op.Seq = st.seq
	}
	if flags&flagOwner != 0 {
		op.Owner = s.string()
	}
	if flags&flagToken != 0 {
		st.token += uint64(c.varint())
		op.Token = st.token
	}
	if flags&flagDeadline != 0 {
		op.Deadline = op.Time + c.varint()
	}
	if flags&flagsRare != 0 || op.F == RunMeta {
		s.decodeRare(op, flags)
	}
	op.Fenced = flags&flagFenced != 0
	op.Skipped = flags&flagSkipped != 0
	if c.err != nil {
		return c.err
	}
	return s.checkPresence(op, flags)
}

// checkPresence refuses a record whose flags announce a field that decoded to its zero value:
// the writer never sets such a flag, so the bytes were not written by it.
func (s *binarySource) checkPresence(op *Op, flags uint64) error {
	switch {
	case flags&flagClient != 0 && op.Client == op.Process,
		flags&flagSeq != 0 && op.Seq == 0,
		flags&flagToken != 0 && op.Token == 0,
		flags&flagDeadline != 0 && op.Deadline == 0,
		flags&flagID != 0 && op.ID == "",
		flags&flagOwner != 0 && op.Owner == "",
		flags&flagError != 0 && op.Error == "",
		flags&flagFault != 0 && op.Fault == "",
		flags&flagDetail != 0 && op.Detail == "":
		return errors.New("a field marked present is empty")
	}
	return nil
}

func (s *binarySource) decodeRare(op *Op, flags uint64) {
	c := &s.c
	if flags&flagError != 0 {
		op.Error = s.string()
	}
	if flags&flagFault != 0 {
		op.Fault = s.string()
	}
	if flags&flagTargets != 0 {
		n := c.uvarint()
		if n == 0 || n > uint64(len(c.b)-c.i) {
			c.fail(fmt.Errorf("%d targets", n))
			return
		}
		op.Targets = make([]string, n)
		for i := range op.Targets {
			op.Targets[i] = s.string()
		}
	}
	if flags&flagDetail != 0 {
		op.Detail = s.string()
	}
	if flags&flagLogLen != 0 {
		op.LogLen = s.int64(c.varint())
	}
	if op.F == RunMeta {
		op.Meta = s.meta()
	}
}

func (s *binarySource) meta() *Meta {
	b := s.c.bytes(s.c.uvarint())
	if s.c.err != nil {
		return nil
	}
	var m Meta
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		s.c.fail(fmt.Errorf("meta: %w", err))
		return nil
	}
	if dec.More() {
		s.c.fail(errors.New("meta: more than one JSON value"))
		return nil
	}
	return &m
}

func (s *binarySource) id(process int) string {
	c := &s.c
	switch tag := c.byte(); tag {
	case idOwnProcess:
		if process < 0 {
			c.fail(errors.New("a process-relative id on a record without a worker process"))
			return ""
		}
		return formatID(s.scratch[:], uint64(process), c.uvarint())
	case idProcess:
		a := c.uvarint()
		return formatID(s.scratch[:], a, c.uvarint())
	case idString:
		return s.string()
	default:
		c.fail(fmt.Errorf("unknown id tag %d", tag))
		return ""
	}
}

// string decodes a string: a new definition or a reference into the window of recent ones.
func (s *binarySource) string() string {
	c, st := &s.c, &s.st
	r := c.uvarint()
	if r > 0 {
		if r > st.defined || r > ringSize {
			c.fail(fmt.Errorf("reference to string %d back of %d", r, min(st.defined, ringSize)))
			return ""
		}
		return st.ring[(st.defined-r)%ringSize]
	}
	str := string(c.bytes(c.uvarint()))
	st.ring[st.defined%ringSize] = str
	st.defined++
	return str
}

func (s *binarySource) int64(v int64) *int64 {
	if len(s.ints) == 0 {
		s.ints = make([]int64, 256)
	}
	p := &s.ints[0]
	*p = v
	s.ints = s.ints[1:]
	return p
}

// cursor reads varints from a block's payload; the first error sticks and later reads return
// zeros, so a record is decoded straight through and checked once.
type cursor struct {
	b   []byte
	i   int
	err error
}

func (c *cursor) done() bool { return c.i >= len(c.b) }

func (c *cursor) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.i = len(c.b)
}

func (c *cursor) byte() byte {
	if c.i >= len(c.b) {
		c.fail(errPastEnd)
		return 0
	}
	v := c.b[c.i]
	c.i++
	return v
}

func (c *cursor) uvarint() uint64 {
	if c.i < len(c.b) && c.b[c.i] < 0x80 {
		v := c.b[c.i]
		c.i++
		return uint64(v)
	}
	v, n := binary.Uvarint(c.b[c.i:])
	switch {
	case n == 0:
		c.fail(errPastEnd)
		return 0
	case n < 0:
		c.fail(errors.New("a number longer than 64 bits"))
		return 0
	}
	c.i += n
	return v
}

func (c *cursor) varint() int64 {
	u := c.uvarint()
	return int64(u>>1) ^ -int64(u&1) // zigzag, as binary.AppendVarint writes it
}

func (c *cursor) bytes(n uint64) []byte {
	if n > uint64(len(c.b)-c.i) {
		c.fail(errPastEnd)
		return nil
	}
	b := c.b[c.i : c.i+int(n)]
	c.i += int(n)
	return b
}
