package termview

import (
	"fmt"
	"io"
)

// ReadProgress shows on w, redrawn in place, how far a long read of a history has got: the pass
// (the check and the page read the file several times) and its percentage. On anything but a
// terminal it shows nothing and update is nil; done clears the line.
func ReadProgress(w io.Writer) (update func(pass int, read, size int64), done func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	last := ""
	update = func(pass int, read, size int64) {
		pct := int64(100)
		if size > 0 {
			pct = min(100, read*100/size)
		}
		line := fmt.Sprintf("reading the history, pass %d: %3d%%", pass, pct)
		if line != last {
			fmt.Fprintf(w, "\r%s\x1b[K", line)
			last = line
		}
	}
	done = func() {
		if last != "" {
			fmt.Fprint(w, "\r\x1b[K")
		}
	}
	return update, done
}
