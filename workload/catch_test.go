package workload

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeWorkload has three processes whose commands are recorded instead of sent.
func fakeWorkload() (*Workload, *[]string, *sync.Mutex) {
	var mu sync.Mutex
	var sent []string
	w := &Workload{procs: make([]*proc, 3), holders: map[int]bool{}}
	w.send = func(n int, c Command) error {
		mu.Lock()
		defer mu.Unlock()
		if c.Cmd == CmdContinue {
			sent = append(sent, string(c.Cmd)+":"+string(c.Hook)+":p"+string(rune('0'+n)))
		}
		return nil
	}
	return w, &sent, &mu
}

// Waiting workers that do not match are let go at once; the first match is kept waiting and
// returned; nobody is ever left waiting by accident.
func TestCatchHoldsOnlyTheMatch(t *testing.T) {
	w, sent, mu := fakeWorkload()
	got := make(chan Event, 1)
	go func() {
		e, err := w.Catch(context.Background(), AfterRead, func(e Event) bool { return e.Holding })
		if err != nil {
			t.Error(err)
		}
		got <- e
	}()
	for w.catchPending() == nil {
		time.Sleep(time.Millisecond)
	}
	w.observe(Event{Kind: EvHook, Hook: AfterRead, Process: 1, Waiting: true, Holding: false})
	w.observe(Event{Kind: EvHook, Hook: BeforeWrite, Process: 2, Waiting: true, Holding: true})
	w.observe(Event{Kind: EvHook, Hook: AfterRead, Process: 0, Waiting: true, Holding: true})
	w.observe(Event{Kind: EvHook, Hook: AfterRead, Process: 2, Waiting: true, Holding: true})
	if e := <-got; e.Process != 0 {
		t.Errorf("caught p%d, want p0", e.Process)
	}
	mu.Lock()
	defer mu.Unlock()
	if s := strings.Join(*sent, " "); s != "continue:after-read:p1 continue:before-write:p2 continue:after-read:p2" {
		t.Errorf("continued %q: want every non-matching waiter let go and p0 kept", s)
	}
}

func TestCatchTimesOutAndIsOneAtATime(t *testing.T) {
	w, _, _ := fakeWorkload()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	go w.Catch(ctx, AfterRead, nil)
	for w.catchPending() == nil {
		time.Sleep(time.Millisecond)
	}
	if _, err := w.Catch(context.Background(), AfterRead, nil); err != ErrCatchBusy {
		t.Errorf("second catch: %v, want ErrCatchBusy", err)
	}
	<-ctx.Done()
	for w.catchPending() != nil {
		time.Sleep(time.Millisecond)
	}
}

func (w *Workload) catchPending() *catchReq {
	w.catch.mu.Lock()
	defer w.catch.mu.Unlock()
	return w.catch.pending
}
