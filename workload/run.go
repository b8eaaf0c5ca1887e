package workload

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/locktest/locktest/history"
)

// Params configures a workload run.
type Params struct {
	// Clients is how many worker processes run the loop concurrently.
	Clients int
	// TimeLimit is how long the workers run before they are told to stop.
	TimeLimit time.Duration
	// Worker is the template of every worker's configuration; Process and Processes are set per
	// worker.
	Worker WorkerConfig
	// Meta is written as the history's first record.
	Meta history.Meta
	// History receives every record.
	History *history.Writer
	// WorkerLog receives the workers' stderr. Nil discards it.
	WorkerLog io.Writer
	// Log receives structured progress logs. Nil discards them.
	Log *slog.Logger
	// OnStatus, if set, is called about once a second with the counts so far.
	OnStatus func(Status)
	// Route, if set, maps a node address to the one a worker process dials instead (a delaying
	// proxy of that process's own, for per-client network delay).
	Route func(process int, addr string) string
	// ClientCmd, if set, is the program (and its arguments) each worker process runs instead of
	// locktest's own worker: a client in any language speaking the worker protocol.
	ClientCmd []string
	_         struct{}
}

// Status is a snapshot of a run in progress.
type Status struct {
	Elapsed              time.Duration
	IncrOK, IncrFail     int64
	IncrInfo, Acquired   int64
	WorkersAlive, Events int64
	// Provisional are live anomaly counts for people watching, not a verdict.
	Provisional Provisional
}

// Provisional counts what looks like an anomaly while the run goes on, for people watching. They
// are cheap estimates from the workers' events as they arrive, lagging a quarter of a second: an
// event that arrives later than that (its worker was paused between stamping and sending it) is
// counted out of order, and unknown (info) increments are not resolved. Only the checker, after
// the run, gives a verdict.
type Provisional struct {
	// HoldersNow is how many processes believed they held the lock a quarter of a second ago; two
	// or more overlap.
	HoldersNow int64
	// Overlaps counts pairs of processes that believed they held the lock at the same time.
	Overlaps int64
	// DuplicateWrites counts ok increments that wrote a counter value an earlier ok increment
	// had already written: a lost update.
	DuplicateWrites int64
}

// Summary says how a workload run went.
type Summary struct {
	Status
	// Interrupted is true when ctx ended the run before its time limit.
	Interrupted bool
	// Killed counts workers that did not stop in time and were killed.
	Killed int
}

type counters struct {
	incrOK, incrFail, incrInfo, acquired, alive, events atomic.Int64
	// protocol holds the first protocol error of any worker.
	protocol *brokenOnce
}

type proc struct {
	n     int
	cmd   *exec.Cmd
	stdin io.WriteCloser
	inMu  sync.Mutex
	done  chan struct{} // closed when the worker's stdout is drained and the process reaped
}

func (p *proc) send(c Command) error {
	p.inMu.Lock()
	defer p.inMu.Unlock()
	b, _ := json.Marshal(c)
	_, err := p.stdin.Write(append(b, '\n'))
	return err
}

// Workload is a running set of worker processes.
type Workload struct {
	p       Params
	storage *Storage
	procs   []*proc
	c       *counters
	start   time.Time

	holderMu sync.Mutex
	holders  map[int]bool // processes that currently believe they hold the lock

	live liveCounts

	catch catcher
	// send delivers a command to a worker; a field so tests can drive the event logic alone.
	send func(n int, c Command) error
}

// Start resets the storage, records the run's metadata and starts the workers. The caller must
// call Stop, which also runs on every error path of Start's caller through a deferred call.
func Start(ctx context.Context, p Params) (*Workload, error) {
	if p.Clients < 1 {
		return nil, fmt.Errorf("workload: need at least one client, got %d", p.Clients)
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.WorkerLog == nil {
		p.WorkerLog = io.Discard
	}
	w := &Workload{p: p, storage: NewStorage(p.Worker.StorageAddr, p.Worker.StorageTimeout, NoFencing), c: &counters{protocol: newBrokenOnce()}, holders: map[int]bool{}}
	w.send = w.sendToProc
	// A fresh counter per run; storage nodes of a standing cluster are reused.
	if err := w.storage.Reset(ctx); err != nil {
		w.storage.Close()
		return nil, fmt.Errorf("reset storage at %s: %w", p.Worker.StorageAddr, err)
	}
	p.Meta.Initial = 0
	p.Meta.Format = history.FormatVersion
	p.Meta.Fencing = string(p.Worker.Fencing)
	p.Meta.Guard, p.Meta.Extend = string(p.Worker.Client.Guard), p.Worker.Client.Extend
	if err := p.History.Append(history.Op{Time: history.Now(), Process: history.HarnessProcess, F: history.RunMeta, Meta: &p.Meta}); err != nil {
		w.storage.Close()
		return nil, err
	}
	w.start = time.Now()
	procs, err := startWorkers(p, w.c, w.observe)
	w.procs = procs
	if err != nil {
		killAll(procs)
		w.storage.Close()
		return nil, err
	}
	p.Log.Info("workers started", "clients", p.Clients, "time_limit", p.TimeLimit)
	return w, nil
}

// observe keeps track of who holds the lock, from the workers' own history records, and answers
// workers waiting at hooks.
func (w *Workload) observe(e Event) {
	if e.Kind == EvHook && e.Waiting {
		w.onWaiting(e)
	}
	if e.Kind == EvOp && e.Op != nil {
		w.live.observe(e.Op)
		switch {
		case e.Op.F == history.Acquire && e.Op.Type == history.OK:
			w.holderMu.Lock()
			w.holders[e.Op.Process] = true
			w.holderMu.Unlock()
		case e.Op.F == history.Release && e.Op.Type == history.Invoke:
			w.holderMu.Lock()
			delete(w.holders, e.Op.Process)
			w.holderMu.Unlock()
		}
	}
}

// Holders returns the processes that currently believe they hold the lock, in order.
func (w *Workload) Holders() []int {
	w.holderMu.Lock()
	defer w.holderMu.Unlock()
	var out []int
	for i := range w.procs {
		if w.holders[i] {
			out = append(out, i)
		}
	}
	return out
}

// Pid returns the OS process id of worker process n, for faults that signal it. The process leads
// a process group of its own, which a client program's children share.
func (w *Workload) Pid(n int) (int, error) {
	if n < 0 || n >= len(w.procs) || w.procs[n].cmd.Process == nil {
		return 0, fmt.Errorf("no worker process %d (there are %d)", n, len(w.procs))
	}
	return w.procs[n].cmd.Process.Pid, nil
}

// Processes is the number of worker processes.
func (w *Workload) Processes() int { return len(w.procs) }

// sendToProc sends a command to worker process n.
func (w *Workload) sendToProc(n int, c Command) error {
	if n < 0 || n >= len(w.procs) {
		return fmt.Errorf("no worker process %d", n)
	}
	return w.procs[n].send(c)
}

// Status returns the counts so far.
func (w *Workload) Status() Status {
	c := w.c
	until := history.Now() - reorderWindow
	if c.alive.Load() == 0 {
		until = math.MaxInt64 // every event is in
	}
	return Status{Elapsed: time.Since(w.start), IncrOK: c.incrOK.Load(), IncrFail: c.incrFail.Load(),
		IncrInfo: c.incrInfo.Load(), Acquired: c.acquired.Load(), WorkersAlive: c.alive.Load(), Events: c.events.Load(),
		Provisional: w.live.counts(until)}
}

// liveCounts keeps the Provisional counts; its zero value is ready to use.
//
// Events of different workers arrive through different pipes, a few milliseconds apart at worst
// (one worker's release can be read after another's acquisition that followed it). So lock
// records wait until they are reorderWindow old and are then swept in time order, which counts
// the overlaps the checker would count from the same records.
type liveCounts struct {
	mu       sync.Mutex
	pending  []lockRecord // acquisitions and releases not swept yet, in arrival order
	holding  map[int]bool // as of the last sweep
	written  []uint64     // bitset of the counter values ok increments wrote
	overlaps int64
	dups     int64
}

type lockRecord struct {
	time     int64
	process  int
	acquired bool // an ok acquisition; otherwise a release invocation
}

const (
	reorderWindow = int64(250 * time.Millisecond)
	// maxPending bounds the records waiting for a sweep when nobody asks for the counts.
	maxPending = 4096
	// maxTracked bounds the bitset of written values (8 MiB); larger values are not tracked.
	maxTracked = 1 << 26
)

func (l *liveCounts) observe(op *history.Op) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case op.F == history.Acquire && op.Type == history.OK, op.F == history.Release && op.Type == history.Invoke:
		l.pending = append(l.pending, lockRecord{time: op.Time, process: op.Process, acquired: op.F == history.Acquire})
		if len(l.pending) > maxPending {
			l.sweep(op.Time - reorderWindow)
		}
	case op.F == history.Incr && op.Type == history.OK && op.Value != nil:
		v := *op.Value + 1 // the value written
		if v < 0 || v >= maxTracked {
			return
		}
		for int(v/64) >= len(l.written) {
			l.written = append(l.written, 0)
		}
		bit := uint64(1) << (v % 64)
		if l.written[v/64]&bit != 0 {
			l.dups++
		}
		l.written[v/64] |= bit
	}
}

// sweep applies the pending lock records stamped before until, in time order.
func (l *liveCounts) sweep(until int64) {
	slices.SortStableFunc(l.pending, func(a, b lockRecord) int { return cmp.Compare(a.time, b.time) })
	if l.holding == nil {
		l.holding = map[int]bool{}
	}
	n := 0
	for _, r := range l.pending {
		if r.time >= until {
			break
		}
		n++
		if !r.acquired {
			delete(l.holding, r.process)
			continue
		}
		for q := range l.holding {
			if q != r.process {
				l.overlaps++
			}
		}
		l.holding[r.process] = true
	}
	l.pending = append(l.pending[:0], l.pending[n:]...)
}

// counts returns the counts with every lock record stamped before until swept.
func (l *liveCounts) counts(until int64) Provisional {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(until)
	return Provisional{HoldersNow: int64(len(l.holding)), Overlaps: l.overlaps, DuplicateWrites: l.dups}
}

// Wait lets the workload run for limit, reporting status once a second. It returns early, with
// interrupted set, when ctx ends, and with an error when every worker has exited.
func (w *Workload) Wait(ctx context.Context, limit time.Duration) (interrupted bool, err error) {
	timer := time.NewTimer(limit - time.Since(w.start))
	defer timer.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-timer.C:
			return false, nil
		case <-ctx.Done():
			w.p.Log.Warn("run interrupted; stopping workers", "after", time.Since(w.start).Round(time.Millisecond))
			return true, nil
		case <-w.c.protocol.broken:
			return false, w.c.protocol.err
		case <-tick.C:
			if w.p.OnStatus != nil {
				w.p.OnStatus(w.Status())
			}
			if w.c.alive.Load() == 0 {
				return false, w.exitedEarly()
			}
		}
	}
}

// exitedEarly describes workers that all exited before being told to stop: which client program,
// and how each process ended.
func (w *Workload) exitedEarly() error {
	client := "the built-in worker"
	if len(w.p.ClientCmd) > 0 {
		client = strings.Join(w.p.ClientCmd, " ")
	}
	var ends []string
	for _, pr := range w.procs {
		if st := pr.cmd.ProcessState; st != nil {
			ends = append(ends, fmt.Sprintf("process %d: %v", pr.n, st))
		}
	}
	return fmt.Errorf("every client process (%s) exited early (%s); their stderr is workers.log in the results directory",
		client, strings.Join(ends, ", "))
}

// Stop stops the workers (killing those that do not stop in time), then appends the final read
// and the write log to the history. It runs on a context detached from ctx's cancellation: the
// final read is what makes an interrupted run's history checkable.
func (w *Workload) Stop(ctx context.Context) (Summary, error) {
	defer w.storage.Close()
	var sum Summary
	sum.Killed = stopWorkers(w.procs, w.p.Worker, w.p.Log)
	sum.Status = w.Status()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := finalRead(fctx, w.storage, w.p.History); err != nil {
		return sum, fmt.Errorf("final read: %w", err)
	}
	return sum, nil
}

func startWorkers(p Params, c *counters, observe func(Event)) ([]*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable to start workers: %w", err)
	}
	var procs []*proc
	for n := 0; n < p.Clients; n++ {
		cfg := p.Worker
		cfg.Process, cfg.Processes = n, p.Clients
		if p.Route != nil {
			cfg.LockAddrs = make([]string, len(p.Worker.LockAddrs))
			for i, a := range p.Worker.LockAddrs {
				cfg.LockAddrs[i] = p.Route(n, a)
			}
			cfg.StorageAddr = p.Route(n, p.Worker.StorageAddr)
			cfg.Dial = make(map[string]string, len(p.Worker.Dial))
			for from, to := range p.Worker.Dial {
				cfg.Dial[from] = p.Route(n, to)
			}
		}
		cfg.Protocol = ProtocolVersion
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), WorkerEnv+"=1")
		if len(p.ClientCmd) > 0 {
			cmd = exec.Command(p.ClientCmd[0], p.ClientCmd[1:]...)
		}
		cmd.Stderr = p.WorkerLog
		// Own process group: a Ctrl-C on the terminal reaches only the coordinator, which then stops
		// the workers in order instead of having them die mid-operation.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return procs, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return procs, err
		}
		if err := cmd.Start(); err != nil {
			return procs, fmt.Errorf("start worker %d: %w", n, err)
		}
		pr := &proc{n: n, cmd: cmd, stdin: stdin, done: make(chan struct{})}
		procs = append(procs, pr)
		c.alive.Add(1)
		b, _ := json.Marshal(cfg)
		if _, err := stdin.Write(append(b, '\n')); err != nil {
			return procs, fmt.Errorf("configure worker %d: %w", n, err)
		}
		go func() {
			defer close(pr.done)
			defer c.alive.Add(-1)
			if err := readEvents(stdout, n, p, c, observe); err != nil {
				// Its history can no longer be trusted: the run stops, and so does it, now.
				c.protocol.set(err)
				killProc(pr)
				_, _ = io.Copy(io.Discard, stdout)
			}
			_ = cmd.Wait()
		}()
	}
	return procs, nil
}

// maxEventLine is the longest event line a worker may send.
const maxEventLine = 1 << 20

// readEvents records worker n's events until its stdout closes, or until a line breaks the
// protocol (a *ProtocolError).
func readEvents(r io.Reader, n int, p Params, c *counters, observe func(Event)) error {
	client := "built-in worker"
	if len(p.ClientCmd) > 0 {
		client = strings.Join(p.ClientCmd, " ")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	er := eventReader{process: n}
	for sc.Scan() {
		e, err := er.decode(sc.Bytes())
		if err != nil {
			return &ProtocolError{Process: n, Client: client, Line: quote(sc.Bytes()), Err: err}
		}
		c.events.Add(1)
		if e.Kind == EvOp && e.Op != nil {
			if err := p.History.Append(*e.Op); err != nil {
				p.Log.Error("history write failed", "err", err)
			}
			count(c, e.Op)
		}
		observe(e)
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return &ProtocolError{Process: n, Client: client, Line: "(not shown)", Err: fmt.Errorf("a line longer than %d bytes", maxEventLine)}
	}
	return nil
}

func count(c *counters, op *history.Op) {
	switch {
	case op.F == history.Incr && op.Type == history.OK:
		c.incrOK.Add(1)
	case op.F == history.Incr && op.Type == history.Fail:
		c.incrFail.Add(1)
	case op.F == history.Incr && op.Type == history.Info:
		c.incrInfo.Add(1)
	case op.F == history.Acquire && op.Type == history.OK:
		c.acquired.Add(1)
	}
}

// stopWorkers asks every worker to stop and waits long enough for a critical section to finish;
// workers still running after that are killed. It returns how many were killed.
func stopWorkers(procs []*proc, cfg WorkerConfig, log *slog.Logger) int {
	for _, pr := range procs {
		_ = pr.send(Command{Cmd: CmdStop})
	}
	grace := cfg.AcquireTimeout + 3*cfg.StorageTimeout + 5*time.Second
	deadline := time.After(grace)
	killed := 0
	for _, pr := range procs {
		select {
		case <-pr.done:
		case <-deadline:
			deadline = closedChan() // the grace period is shared, not per worker
			log.Warn("worker did not stop in time; killing it", "process", pr.n, "grace", grace)
			killProc(pr)
			<-pr.done
			killed++
		}
	}
	return killed
}

func closedChan() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}

// killAll kills workers that are still running (after an error or a panic in the coordinator).
func killAll(procs []*proc) {
	for _, pr := range procs {
		select {
		case <-pr.done:
		default:
			killProc(pr)
		}
	}
}

// killProc kills a worker even if it is SIGSTOPped: SIGKILL works on a stopped process, and the
// SIGCONT first makes sure nothing is left in state T should the kill be refused.
func killProc(pr *proc) {
	if pr.cmd.Process == nil {
		return
	}
	// The whole process group (the worker leads its own): a client program's children must not
	// outlive it, holding its stdout open.
	_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGCONT)
	_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
	pr.stdin.Close()
}

// finalRead appends the harness's read of the counter and the storage's write log to the history.
func finalRead(ctx context.Context, s *Storage, h *history.Writer) error {
	const finalClient = -1 // a client of its own: the harness
	inv := history.Op{Time: history.Now(), Process: history.HarnessProcess, Client: finalClient, Type: history.Invoke, F: history.Read}
	if err := h.Append(inv); err != nil {
		return err
	}
	v, logLen, err := s.Final(ctx)
	done := history.Op{Time: history.Now(), Process: history.HarnessProcess, Client: finalClient, F: history.Read}
	if err != nil {
		done.Type, done.Error = history.Fail, err.Error()
		_ = h.Append(done)
		return err
	}
	done.Type, done.Value, done.LogLen = history.OK, history.Int64(v), history.Int64(logLen)
	if err := h.Append(done); err != nil {
		return err
	}
	// The log goes to the history as it is read: entries that came before a failed read are
	// written, and the missing closing record marks the log as cut.
	now := history.Now()
	n, err := s.EachLogEntry(ctx, func(seq int, e LogEntry) error {
		return h.Append(history.Op{Time: now, Process: history.HarnessProcess, Client: finalClient, Type: history.OK, F: history.WriteLog,
			ID: e.OpID, Value: history.Int64(e.Value), Seq: int64(seq)})
	})
	if err != nil {
		return err
	}
	// The closing record makes a cut log detectable: its length is what the storage returned.
	return h.Append(history.Op{Time: now, Process: history.HarnessProcess, Client: finalClient, Type: history.OK,
		F: history.WriteLogEnd, LogLen: history.Int64(int64(n))})
}
