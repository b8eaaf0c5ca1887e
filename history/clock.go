package history

import "golang.org/x/sys/unix"

// Now returns CLOCK_MONOTONIC in nanoseconds.
//
// Clients are separate OS processes, so the monotonic reading inside Go's time.Time is useless for
// ordering their events: each process has its own origin. CLOCK_MONOTONIC is one clock for the whole
// host, unaffected by wall-clock jumps (including the ones the nemesis injects into servers).
func Now() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		// CLOCK_MONOTONIC is always available on Linux; failing here means the platform is unsupported.
		panic("clock_gettime(CLOCK_MONOTONIC): " + err.Error())
	}
	return ts.Nano()
}
