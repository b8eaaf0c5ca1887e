package nemesis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/locktest/locktest/workload"
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

// Catcher is an optional ability of Clients: catch the next holder at a hook point and keep it
// there. With it, a pause of the holder lands inside its critical section (after it read the
// counter, before it wrote) every time; without it, the pause hits whoever the last reports say
// holds the lock, which may already be releasing it.
type Catcher interface {
	Catch(ctx context.Context, hook workload.Hook, match func(workload.Event) bool) (workload.Event, error)
	Continue(process int, hook workload.Hook) error
}

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

func (f *pauseClient) Detail() string {
	if f.want == Holder {
		return "SIGSTOP of the holder right after its read"
	}
	return "SIGSTOP"
}

func (f *pauseClient) Inject(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.want
	if n == Holder {
		if c, ok := f.c.(Catcher); ok {
			return f.pauseCaught(ctx, c)
		}
		h, err := waitHolder(ctx, f.c)
		if err != nil {
			return err
		}
		n = h
	}
	return f.stop(n)
}

// waitHolder waits up to holderWait for somebody to hold the lock, by the workload's reports.
func waitHolder(ctx context.Context, c Clients) (int, error) {
	deadline := time.Now().Add(holderWait)
	for {
		if h := c.Holders(); len(h) > 0 {
			return h[0], nil
		}
		if time.Now().After(deadline) || !sleepUntil(ctx, time.Now().Add(2*time.Millisecond)) {
			return 0, ErrNoHolder
		}
	}
}

// pauseCaught catches the next holder right after its read, stops it there, and lets it go: the
// go-ahead waits in its pipe until the pause ends, when it writes the value it read before.
func (f *pauseClient) pauseCaught(ctx context.Context, c Catcher) error {
	cctx, cancel := context.WithTimeout(ctx, holderWait)
	defer cancel()
	e, err := c.Catch(cctx, workload.AfterRead, func(e workload.Event) bool { return e.Holding })
	if err != nil {
		return fmt.Errorf("%w: nobody reached %s holding the lock within %v (%v)", ErrNoHolder, workload.AfterRead, holderWait, err)
	}
	err = f.stop(e.Process)
	// Continue even if the stop failed: the worker must never be left waiting.
	if cerr := c.Continue(e.Process, e.Hook); err == nil {
		err = cerr
	}
	return err
}

func (f *pauseClient) stop(n int) error {
	pid, err := f.c.Pid(n)
	if err != nil {
		return err
	}
	// The whole process group: a client program's children (a wrapper script's interpreter)
	// stop with it. Each worker leads a group of its own.
	if err := syscall.Kill(-pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause p%d (pid %d): %w", n, pid, err)
	}
	f.chosen, f.pid = n, pid
	// Signals are delivered asynchronously. Whatever comes next (a go-ahead queued for a worker
	// caught at a hook) must reach a process that is already stopped, or it would run first.
	return waitStopped(pid, 2*time.Second)
}

// waitStopped waits until the kernel reports pid as stopped (state T in /proc/PID/stat).
func waitStopped(pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return fmt.Errorf("pid %d: %w", pid, err)
		}
		// "PID (comm) STATE ...": comm may contain anything, so read after the last ')'.
		s := string(b)
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 0 && f[0] == "T" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d not stopped %v after SIGSTOP", pid, limit)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func (f *pauseClient) Heal(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pid == 0 {
		return nil
	}
	// ESRCH: the process is gone (killed at the end of the run); nothing is left stopped.
	if err := syscall.Kill(-f.pid, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("resume p%d (pid %d): %w", f.chosen, f.pid, err)
	}
	f.pid = 0
	return nil
}
