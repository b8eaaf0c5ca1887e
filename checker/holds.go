package checker

import (
	"math"

	"github.com/locktest/locktest/history"
)

// ScanHolds reads src once and calls f with every hold: the intervals in which a process believed
// it held the lock, as the checker finds them, each with whether it overlapped a hold of another
// process. Holds come as soon as that is known (after they end), so not in start order; f's hold
// is only valid during the call. Memory follows the run's concurrency, not its length: this is
// how a report draws every hold of a long run.
func ScanHolds(src Source, f func(h *Hold, overlapping bool)) error {
	mutex := newMutexStream(0)
	mutex.decided = f
	var order *timeOrder
	end, workEnd := int64(math.MinInt64), int64(0)
	workers := 0
	err := src.Scan(func(op *history.Op) error {
		end = max(end, op.Time)
		if op.F == history.RunMeta && op.Meta != nil && order == nil {
			workers = op.Meta.Clients
		}
		if op.Process < 0 {
			return nil
		}
		workEnd = max(workEnd, op.Time)
		if order == nil {
			// The meta record comes first; a history without one is ordered whole (see newTimeOrder).
			order = newTimeOrder(workers, mutex.add)
		}
		order.add(op)
		return nil
	})
	if err != nil {
		return err
	}
	if order != nil {
		order.finish()
	}
	mutex.closeAll(end, workEnd)
	return nil
}
