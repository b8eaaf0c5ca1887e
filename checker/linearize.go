package checker

import (
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizability results as written in LinResult.Result.
const (
	linOK      = "ok"
	linIllegal = "illegal"
	linUnknown = "unknown"
)

// skipped marks a chunk that was not checked because the time budget was spent.
const skipped porcupine.CheckResult = ""

// budget shares the total time among chunks.
type budget struct {
	deadline time.Time
	total    time.Duration
	ops      int
}

// forChunk is the time a chunk of n operations may take. Each chunk may use several times its
// proportional share (most finish far below it, and a hard one deserves the slack), but never
// more than what is left, so the total budget holds.
func (b *budget) forChunk(n int) time.Duration {
	left := time.Until(b.deadline)
	if left <= 0 {
		return 0
	}
	share := time.Duration(float64(b.total) * float64(n) / float64(max(b.ops, 1)) * 8)
	return min(left, max(share, b.total/100))
}
