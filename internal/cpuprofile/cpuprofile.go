// Package cpuprofile starts a CPU profile for `go tool pprof` when an environment variable asks
// for one: how the coordinator and the workers of a run are profiled (issue 11's hot path).
package cpuprofile

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// Start writes a CPU profile of this process to path until stop is called. An empty path does
// nothing; a profile that cannot be started is said on stderr (who names the program) and the
// program goes on without it.
func Start(path, who string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: CPU profile %s: %v (none written)\n", who, path, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
