package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// profileEnv names a file for a CPU profile of this process (the coordinator; workers ignore
// it), for `go tool pprof`: how the hot path and analyze were profiled (issue 11).
const profileEnv = "LOCKTEST_CPUPROFILE"

// startProfile starts the CPU profile profileEnv asks for, and returns what stops it.
func startProfile() (stop func()) {
	path := os.Getenv(profileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "locktest: %s: %v (no profile written)\n", profileEnv, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
