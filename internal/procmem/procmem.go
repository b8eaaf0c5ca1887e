// Package procmem reads this process's memory use from Linux's /proc, for the figures a run
// records about its own coordinator.
package procmem

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// PeakRSS is the most resident memory this process has had so far (VmHWM), in bytes; ok is false
// where /proc/self/status does not say (not Linux).
func PeakRSS() (n int64, ok bool) { return statusKB("VmHWM:") }

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
