// Package procmem reads this process's memory use from Linux's /proc, for the figures a run
// records about its own coordinator.
package procmem

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"sync/atomic"
)

// PeakRSS is the most resident memory this process has had so far (VmHWM), in bytes; ok is false
// where /proc/self/status does not say (not Linux). It never goes down between calls: the kernel
// reports VmHWM as the larger of its recorded high-water mark and the current RSS, and on kernels
// that keep RSS in per-CPU counters (6.2 and later) that current figure is an estimate which a
// later read can put a little lower (CI saw 105.2 MB, then 105.1 MB). A peak that shrank would be
// a false figure, so the highest reading so far is kept.
func PeakRSS() (n int64, ok bool) {
	n, ok = statusKB("VmHWM:")
	if !ok {
		return 0, false
	}
	return highestSoFar(n), true
}

// highest is the largest VmHWM PeakRSS has read.
var highest atomic.Int64

// highestSoFar records reading n and returns the largest reading so far.
func highestSoFar(n int64) int64 {
	for {
		seen := highest.Load()
		if n <= seen {
			return seen
		}
		if highest.CompareAndSwap(seen, n) {
			return n
		}
	}
}

func statusKB(field string) (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(field)) {
			continue
		}
		f := bytes.Fields(line[len(field):])
		if len(f) == 0 {
			return 0, false
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}
