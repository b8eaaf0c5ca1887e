package workload

import (
	"context"
	"errors"
	"sync"
)

// Catching a client at a hook point is how faults land at a precise moment of the client loop:
// "pause the holder right after it read the counter" happens every time, not by luck. Every worker
// is told to wait at the hook; the first arrival that matches is kept waiting (until Continue), and
// every other arrival is let go at once, so no worker is ever left waiting by accident.

// ErrCatchBusy means another Catch is in progress: catches are one at a time.
var ErrCatchBusy = errors.New("another catch is in progress")

type catchReq struct {
	hook  Hook
	match func(Event) bool
	got   chan Event // buffered: the event reader never blocks
}

// catcher is the catching state of a Workload.
type catcher struct {
	mu      sync.Mutex
	pending *catchReq
}

// Catch waits until a worker reaches hook with match(event) true and returns that event; the
// worker stays waiting at the hook until Continue. It fails with ctx's error if nothing matched
// in time.
func (w *Workload) Catch(ctx context.Context, hook Hook, match func(Event) bool) (Event, error) {
	return w.CatchAfter(ctx, hook, match, nil)
}

// CatchAfter is Catch that calls armed once the catch is in force: every worker has been told to
// wait at hook. A client that armed lets go (a Continue sent from it) is then caught at its next
// arrival at hook, however fast it gets there: the worker applies the wait before the continue,
// since both travel in order down its pipe.
func (w *Workload) CatchAfter(ctx context.Context, hook Hook, match func(Event) bool, armed func()) (Event, error) {
	req := &catchReq{hook: hook, match: match, got: make(chan Event, 1)}
	w.catch.mu.Lock()
	if w.catch.pending != nil {
		w.catch.mu.Unlock()
		return Event{}, ErrCatchBusy
	}
	w.catch.pending = req
	w.catch.mu.Unlock()
	w.waitAtAll([]Hook{hook})
	defer w.waitAtAll(nil)
	if armed != nil {
		armed()
	}
	select {
	case e := <-req.got:
		return e, nil
	case <-ctx.Done():
		w.catch.mu.Lock()
		if w.catch.pending == req {
			w.catch.pending = nil
		}
		w.catch.mu.Unlock()
		// It may have matched just now: do not strand that worker.
		select {
		case e := <-req.got:
			w.Continue(e.Process, e.Hook)
		default:
		}
		return Event{}, ctx.Err()
	}
}

// Continue lets a worker waiting at hook go on.
func (w *Workload) Continue(process int, hook Hook) error {
	return w.send(process, Command{Cmd: CmdContinue, Hook: hook})
}

func (w *Workload) waitAtAll(hooks []Hook) {
	for n := 0; n < w.Processes(); n++ {
		_ = w.send(n, Command{Cmd: CmdWaitAt, Hooks: hooks})
	}
}

// onWaiting handles a worker that reports waiting at a hook: hand it to the pending catch if it
// matches, otherwise let it go.
func (w *Workload) onWaiting(e Event) {
	w.catch.mu.Lock()
	req := w.catch.pending
	if req != nil && e.Hook == req.hook && (req.match == nil || req.match(e)) {
		w.catch.pending = nil
		w.catch.mu.Unlock()
		req.got <- e
		return
	}
	w.catch.mu.Unlock()
	w.Continue(e.Process, e.Hook)
}
