package workload

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/internal/cpuprofile"
	"github.com/locktest/locktest/lock"
)

// MaybeRunWorker turns the current process into a worker and exits when WorkerEnv is set; it
// returns at once otherwise. Call it first thing in main (and in TestMain of packages whose tests
// start workers from the test binary).
func MaybeRunWorker() {
	if os.Getenv(WorkerEnv) == "" {
		return
	}
	stopProfile := startWorkerProfile()
	err := runWorker(os.Stdin, os.Stdout)
	stopProfile()
	if err != nil {
		fmt.Fprintf(os.Stderr, "worker: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// WorkerProfileEnv names a directory where each worker writes a CPU profile of itself,
// worker-<pid>.pprof, for `go tool pprof` (how the hot path is profiled; LOCKTEST_CPUPROFILE is
// the coordinator's).
const WorkerProfileEnv = "LOCKTEST_WORKER_CPUPROFILE_DIR"

// startWorkerProfile starts the profile WorkerProfileEnv asks for, and returns what stops it.
func startWorkerProfile() (stop func()) {
	dir := os.Getenv(WorkerProfileEnv)
	if dir == "" {
		return func() {}
	}
	return cpuprofile.Start(filepath.Join(dir, fmt.Sprintf("worker-%d.pprof", os.Getpid())), "worker")
}

type worker struct {
	cfg     WorkerConfig
	locker  lock.Locker
	storage *Storage

	// Events are buffered and written out (flush) before every call that may block: the
	// coordinator sees each record before the worker can wait on anything, and a loop costs
	// three pipe writes instead of one per event.
	outMu  sync.Mutex
	outBuf *bufio.Writer
	out    *json.Encoder

	client int // current logical client id; advances by cfg.Processes after an info op
	seq    int // operation counter, for op ids

	stopOnce sync.Once
	stopped  chan struct{} // closed by CmdStop or when the coordinator goes away

	cmds  *commandPipe
	hooks *hookState

	holding bool
	lease   lock.Lease // the held lease (while holding): its token, and its validity deadline as extensions move it

	extender lock.Extender // the locker, when the client extends its leases
	rng      *rand.Rand    // draws each increment's work
}

// hookState is where the worker waits, and for what. Commands change it from the command pipe's
// taker (the loop itself at a hook, or the background server); the loop reads it at hooks.
type hookState struct {
	mu        sync.Mutex
	waitAt    map[Hook]bool
	waitingAt Hook          // the hook the loop waits at now, "" when it runs
	resume    chan struct{} // buffered 1: a continue for waitingAt
}

// arrive decides whether the loop waits at h; if it does, h becomes the hook a continue must name.
func (s *hookState) arrive(h Hook) (wait bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.waitAt[h] {
		return false
	}
	s.waitingAt = h
	select { // a continue left from an earlier wait must not end this one
	case <-s.resume:
	default:
	}
	return true
}

// leave marks the loop running again.
func (s *hookState) leave() {
	s.mu.Lock()
	s.waitingAt = ""
	s.mu.Unlock()
}

// apply applies a wait-at or a continue command.
func (s *hookState) apply(c Command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c.Cmd {
	case CmdWaitAt:
		s.waitAt = map[Hook]bool{}
		for _, h := range c.Hooks {
			s.waitAt[h] = true
		}
	case CmdContinue:
		// The coordinator sends a continue only after the worker said it waits, so one naming
		// another hook is stale (the wait it meant has ended) and must not release a later wait.
		if c.Hook != s.waitingAt {
			return
		}
		select {
		case s.resume <- struct{}{}:
		default: // already resumable
		}
	}
}

func newHookState(waitAt []Hook) *hookState {
	s := &hookState{waitAt: map[Hook]bool{}, resume: make(chan struct{}, 1)}
	for _, h := range waitAt {
		s.waitAt[h] = true
	}
	return s
}

func runWorker(in *os.File, out io.Writer) error {
	cmds, err := newCommandPipe(in)
	if err != nil {
		return err
	}
	line, err := cmds.FirstLine()
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var cfg WorkerConfig
	if err := json.Unmarshal(line, &cfg); err != nil {
		return fmt.Errorf("parse config: %w", err)
	}
	locker, err := lock.New(lock.Config{Backend: cfg.Backend, Addrs: cfg.LockAddrs, Dial: cfg.Dial, TTL: cfg.TTL, NodeTimeout: cfg.NodeTimeout})
	if err != nil {
		return err
	}
	defer locker.Close()
	buf := bufio.NewWriterSize(out, eventBufferSize)
	w := &worker{
		cfg:     cfg,
		locker:  locker,
		storage: NewStorage(cfg.StorageAddr, cfg.StorageTimeout, cfg.Fencing),
		outBuf:  buf,
		out:     json.NewEncoder(buf),
		client:  cfg.Process,
		stopped: make(chan struct{}),
		cmds:    cmds,
		hooks:   newHookState(cfg.WaitAt),
		rng:     rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Process))),
	}
	if cfg.Client.Extend {
		ext, ok := locker.(lock.Extender)
		if !ok {
			return fmt.Errorf("backend %s cannot extend a lease", cfg.Backend)
		}
		w.extender = ext
	}
	defer w.storage.Close()
	defer w.flush()
	// A closed pipe means the coordinator is gone, so the worker stops too.
	go cmds.Serve(w.apply, w.stop)
	if cfg.Protocol != ProtocolVersion {
		return fmt.Errorf("the coordinator speaks worker protocol %d, this worker %d: use one locktest binary", cfg.Protocol, ProtocolVersion)
	}
	w.emit(Event{Kind: EvReady, Process: cfg.Process, Time: history.Now(), Protocol: ProtocolVersion})
	w.flush()
	w.loop()
	return nil
}

// apply applies one coordinator command line.
func (w *worker) apply(line []byte) {
	c, err := decodeCommand(line)
	if err != nil {
		fmt.Fprintf(os.Stderr, "worker %d: %v\n", w.cfg.Process, err)
		return
	}
	if c.Cmd == CmdStop {
		w.stop()
		return
	}
	w.hooks.apply(c)
}

func (w *worker) stop() { w.stopOnce.Do(func() { close(w.stopped) }) }

func (w *worker) isStopped() bool {
	select {
	case <-w.stopped:
		return true
	default:
		return false
	}
}

// eventBufferSize holds a whole loop's events (a dozen lines of ~200 bytes) with room to spare.
const eventBufferSize = 16 << 10

// emit buffers e; flush writes it out.
func (w *worker) emit(e Event) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	// A broken pipe means the coordinator is gone; readCommands sees the same and stops us.
	_ = w.out.Encode(e)
}

// flush writes out the buffered events. It comes before every call that may block (a lock or
// storage command, a wait at a hook, the rest between loops), so no record the coordinator acts on
// (who holds the lock, who waits where) waits in the buffer while the worker is blocked.
func (w *worker) flush() {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	_ = w.outBuf.Flush()
}

// record emits a history record stamped now, and returns it.
func (w *worker) record(op history.Op) history.Op {
	op.Time = history.Now()
	op.Process = w.cfg.Process
	op.Client = w.client
	w.emit(Event{Kind: EvOp, Op: &op, Process: w.cfg.Process})
	if op.Type == history.Info && op.F != history.Extend {
		// Porcupine needs each client to be sequential. The unknown operation may still take
		// effect later, so later operations belong to a new client. (An extension comes in the
		// middle of an increment, which must keep its client, and is not Porcupine's business.)
		w.client += w.cfg.Processes
	}
	return op
}

// hook waits at h if told to, and then reports it. Every command already sent is taken first, so a
// "wait here" sent while the worker was stopped holds it here (see commandPipe). Stopping the
// worker releases the wait. A hook the worker passes is not reported: the coordinator acts only on
// waiting workers, and follows holders from the history records.
func (w *worker) hook(h Hook) {
	if w.cmds.Take(w.apply) {
		w.stop()
	}
	if !w.hooks.arrive(h) {
		return
	}
	w.emit(Event{Kind: EvHook, Hook: h, Time: history.Now(), Process: w.cfg.Process, Holding: w.holding,
		InLease: w.holding && time.Now().Before(w.lease.Deadline), Token: w.lease.Token, Waiting: true})
	w.flush()
	defer w.hooks.leave()
	select {
	case <-w.hooks.resume:
	case <-w.stopped:
	}
}

// loop runs acquire → read → write → release until stopped.
func (w *worker) loop() {
	for !w.isStopped() {
		w.hook(BeforeAcquire)
		lease, ok := w.acquire()
		if !ok {
			continue
		}
		w.holding, w.lease = true, lease
		w.hook(AfterAcquire)
		w.increment()
		w.release(w.lease)
		w.holding, w.lease = false, lock.Lease{}
		w.hook(AfterRelease)
		w.rest()
	}
}

// rest waits cfg.Think between iterations; a stop ends it early.
func (w *worker) rest() {
	if w.cfg.Think <= 0 {
		return
	}
	w.flush()
	t := time.NewTimer(w.cfg.Think)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.stopped:
	}
}

func (w *worker) acquire() (lock.Lease, bool) {
	// Stopping cancels a wait for the lock, never a critical section.
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.AcquireTimeout)
	defer cancel()
	go func() {
		select {
		case <-w.stopped:
			cancel()
		case <-ctx.Done():
		}
	}()
	w.record(history.Op{Type: history.Invoke, F: history.Acquire})
	w.flush()
	lease, err := w.locker.Acquire(ctx)
	switch {
	case err == nil:
		w.record(history.Op{Type: history.OK, F: history.Acquire, Owner: lease.Owner, Token: lease.Token,
			Deadline: monotonic(lease.Deadline)})
		return lease, true
	case errors.Is(err, lock.ErrNotAcquired):
		w.record(history.Op{Type: history.Fail, F: history.Acquire, Error: err.Error()})
	default:
		w.record(history.Op{Type: history.Info, F: history.Acquire, Error: err.Error()})
	}
	return lock.Lease{}, false
}

// increment is the critical section: read the counter, then write read+1. Its history window runs
// from the read being sent to the write being acknowledged.
func (w *worker) increment() {
	w.seq++
	id := fmt.Sprintf("p%d-%d", w.cfg.Process, w.seq)
	ctx := context.Background() // the storage client's timeouts bound each command
	w.record(history.Op{Type: history.Invoke, F: history.Incr, ID: id})
	w.flush()
	v, err := w.storage.Read(ctx, w.lease)
	if err != nil {
		// Nothing was written (a failed or fenced read): the increment certainly had no effect.
		w.record(history.Op{Type: history.Fail, F: history.Incr, ID: id, Error: "read: " + err.Error(), Fenced: errors.Is(err, ErrFenced)})
		return
	}
	w.hook(AfterRead)
	reason := w.work()
	if reason == "" {
		reason = w.guard()
	}
	if reason != "" {
		// The client holds back its write: certainly no effect.
		w.record(history.Op{Type: history.Fail, F: history.Incr, ID: id, Value: history.Int64(v), Error: reason, Skipped: true})
		return
	}
	w.hook(BeforeWrite)
	w.flush()
	if err := w.storage.Write(ctx, id, v+1, w.lease); errors.Is(err, ErrFenced) {
		// The storage refused it: certainly no effect.
		w.record(history.Op{Type: history.Fail, F: history.Incr, ID: id, Value: history.Int64(v), Error: "write: " + err.Error(), Fenced: true})
	} else if err != nil {
		w.record(history.Op{Type: history.Info, F: history.Incr, ID: id, Value: history.Int64(v), Error: "write: " + err.Error()})
	} else {
		w.record(history.Op{Type: history.OK, F: history.Incr, ID: id, Value: history.Int64(v)})
	}
	w.hook(AfterWrite)
}

func (w *worker) release(lease lock.Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.AcquireTimeout)
	defer cancel()
	w.record(history.Op{Type: history.Invoke, F: history.Release, Owner: lease.Owner, Token: lease.Token})
	w.flush()
	err := w.locker.Release(ctx, lease)
	switch {
	case err == nil:
		w.record(history.Op{Type: history.OK, F: history.Release, Owner: lease.Owner})
	case errors.Is(err, lock.ErrNotHeld):
		w.record(history.Op{Type: history.Fail, F: history.Release, Owner: lease.Owner, Error: err.Error()})
	default:
		w.record(history.Op{Type: history.Info, F: history.Release, Owner: lease.Owner, Error: err.Error()})
	}
}

// monotonic is t, a time by the Go monotonic clock, on the history's clock.
func monotonic(t time.Time) int64 { return history.Now() + time.Until(t).Nanoseconds() }

// work spends this increment's work time inside the critical section, extending the lease
// whenever less than half a TTL of validity is left if the client extends. It returns why the
// client must skip its write ("" when it may go on): an extension that did not succeed leaves it
// unsure it still holds the lock.
func (w *worker) work() (skip string) {
	c := w.cfg.Client
	if c.Work.Max == 0 && !c.Extend {
		return ""
	}
	end := time.Now().Add(c.Work.draw(w.rng))
	for {
		if c.Extend && time.Until(w.lease.Deadline) < w.cfg.TTL/2 {
			if err := w.extend(); err != nil {
				return "write skipped: lease not extended: " + err.Error()
			}
		}
		left := time.Until(end)
		if left <= 0 {
			return ""
		}
		w.flush()
		// In steps, so an extension is never late by more than a tenth of the TTL.
		time.Sleep(min(left, w.cfg.TTL/10))
	}
}

// extend extends the held lease and records it; the deadline the client believes moves only on
// success.
func (w *worker) extend() error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.AcquireTimeout)
	defer cancel()
	w.record(history.Op{Type: history.Invoke, F: history.Extend, Owner: w.lease.Owner, Token: w.lease.Token})
	w.flush()
	lease, err := w.extender.Extend(ctx, w.lease)
	switch {
	case err == nil:
		w.lease = lease
		w.record(history.Op{Type: history.OK, F: history.Extend, Owner: lease.Owner, Deadline: monotonic(lease.Deadline)})
	case errors.Is(err, lock.ErrNotHeld):
		w.record(history.Op{Type: history.Fail, F: history.Extend, Owner: w.lease.Owner, Error: err.Error()})
	default:
		w.record(history.Op{Type: history.Info, F: history.Extend, Owner: w.lease.Owner, Error: err.Error()})
	}
	return err
}

// guard is the lease check before the write (Client.Guard): it returns why the client must skip
// its write, or "".
func (w *worker) guard() (skip string) {
	c := w.cfg.Client
	if c.Guard != GuardValidity {
		return ""
	}
	if left := time.Until(w.lease.Deadline); left <= c.GuardMargin {
		return fmt.Sprintf("write skipped: guard: %v of lease validity left, not above the %v margin", left.Round(time.Millisecond), c.GuardMargin)
	}
	return ""
}
