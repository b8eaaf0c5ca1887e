package main

import (
	"github.com/locktest/locktest/internal/cpuprofile"
	"os"
	"runtime/debug"
)

// memoryLimit is the heap locktest keeps under when it can, unless GOMEMLIMIT says otherwise.
// What a check keeps grows only with the write log (16 bytes an entry, ~160 MB for a 10M-increment
// run) while the records read make garbage at a high rate: without a limit the collector lets the
// heap grow to twice what is live, which took analyze of 10M increments to 400 MB instead of 260.
// It is a soft limit: a history whose index alone needs more still gets checked, with the
// collector working harder.
const memoryLimit = 256 << 20

func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// profileEnv names a file for a CPU profile of this process (the coordinator; workers ignore
// it), for `go tool pprof`: how the hot path and analyze were profiled (issue 11).
const profileEnv = "LOCKTEST_CPUPROFILE"

// startProfile starts the CPU profile profileEnv asks for, and returns what stops it.
func startProfile() (stop func()) { return cpuprofile.Start(os.Getenv(profileEnv), "locktest") }
