package history

// SetBlockTarget makes w cut blocks at n bytes, so a small test file has many.
func (w *Writer) SetBlockTarget(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.target = n
}

// BlockHeaderLen is the size of a block's header, for tests that walk the framing.
const BlockHeaderLen = blockHeaderLen

// FileHeaderLen is the size of the file's header.
var FileHeaderLen = len(binaryHeader)
