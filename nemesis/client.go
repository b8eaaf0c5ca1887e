package nemesis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
)

// Clients is what client faults need from the running workload.
type Clients interface {
	// Holders returns the worker processes that currently believe they hold the lock.
	Holders() []int
	// Pid returns worker process n's OS process id.
	Pid(n int) (int, error)
}

// Holder, as a client target, means whichever process holds the lock when the fault starts:
// Kleppmann's GC pause.
const Holder = -1

// NewPauseClient returns a fault that SIGSTOPs worker process (or Holder) and SIGCONTs it on
// heal. The process really stops, mid-operation, as a stop-the-world GC pause would stop it.
func NewPauseClient(c Clients, process int) Fault {
	return &pauseClient{c: c, want: process, chosen: -1}
}

// ErrNoHolder means a fault aimed at the lock holder found nobody holding the lock.
var ErrNoHolder = errors.New("no client holds the lock right now")

type pauseClient struct {
	c    Clients
	want int

	mu     sync.Mutex
	chosen int
	pid    int
}

func (f *pauseClient) Kind() Kind { return PauseClient }

func (f *pauseClient) Targets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.chosen >= 0:
		return []string{fmt.Sprintf("p%d", f.chosen)}
	case f.want == Holder:
		return []string{"holder"}
	}
	return []string{fmt.Sprintf("p%d", f.want)}
}

func (f *pauseClient) Detail() string { return "SIGSTOP" }

func (f *pauseClient) Inject(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.want
	if n == Holder {
		h := f.c.Holders()
		if len(h) == 0 {
			return ErrNoHolder
		}
		n = h[0]
	}
	pid, err := f.c.Pid(n)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause p%d (pid %d): %w", n, pid, err)
	}
	f.chosen, f.pid = n, pid
	return nil
}

func (f *pauseClient) Heal(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pid == 0 {
		return nil
	}
	// ESRCH: the process is gone (killed at the end of the run); nothing is left stopped.
	if err := syscall.Kill(f.pid, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("resume p%d (pid %d): %w", f.chosen, f.pid, err)
	}
	f.pid = 0
	return nil
}
