package workload

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
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
	// OnEvent, if set, sees every worker event (in the reading goroutine: do not block).
	OnEvent func(Event)
	_       struct{}
}

// Status is a snapshot of a run in progress.
type Status struct {
	Elapsed              time.Duration
	IncrOK, IncrFail     int64
	IncrInfo, Acquired   int64
	WorkersAlive, Events int64
}

// Summary says how a workload run went.
type Summary struct {
	Status
	// Interrupted is true when ctx ended the run before its time limit.
	Interrupted bool
	// FinalValue is the counter read after the run, nil if that read failed.
	FinalValue *int64
	// WriteLogEntries is how many writes the storage logged.
	WriteLogEntries int
	// Killed counts workers that did not stop in time and were killed.
	Killed int
}

type counters struct {
	incrOK, incrFail, incrInfo, acquired, alive, events atomic.Int64
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

// Run starts the workers, lets them run for p.TimeLimit (or until ctx ends), stops them, and then
// reads the counter and the storage's write log into the history. The workers are always stopped
// before Run returns, whatever happens.
func Run(ctx context.Context, p Params) (Summary, error) {
	if p.Clients < 1 {
		return Summary{}, fmt.Errorf("workload: need at least one client, got %d", p.Clients)
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.WorkerLog == nil {
		p.WorkerLog = io.Discard
	}
	storage := NewStorage(p.Worker.StorageAddr, p.Worker.StorageTimeout)
	defer storage.Close()

	// A fresh counter per run; storage nodes of a standing cluster are reused.
	if err := storage.Reset(ctx); err != nil {
		return Summary{}, fmt.Errorf("reset storage at %s: %w", p.Worker.StorageAddr, err)
	}
	p.Meta.Initial = 0
	if err := p.History.Append(history.Op{Time: history.Now(), Process: history.HarnessProcess, F: history.RunMeta, Meta: &p.Meta}); err != nil {
		return Summary{}, err
	}

	var c counters
	start := time.Now()
	procs, err := startWorkers(p, &c)
	defer killAll(procs) // a no-op for workers that already exited
	if err != nil {
		return Summary{}, err
	}
	p.Log.Info("workers started", "clients", p.Clients, "time_limit", p.TimeLimit)

	sum := Summary{}
	timer := time.NewTimer(p.TimeLimit)
	defer timer.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	status := func() Status {
		return Status{Elapsed: time.Since(start), IncrOK: c.incrOK.Load(), IncrFail: c.incrFail.Load(),
			IncrInfo: c.incrInfo.Load(), Acquired: c.acquired.Load(), WorkersAlive: c.alive.Load(), Events: c.events.Load()}
	}
wait:
	for {
		select {
		case <-timer.C:
			break wait
		case <-ctx.Done():
			sum.Interrupted = true
			p.Log.Warn("run interrupted; stopping workers", "after", time.Since(start).Round(time.Millisecond))
			break wait
		case <-tick.C:
			if p.OnStatus != nil {
				p.OnStatus(status())
			}
			if c.alive.Load() == 0 {
				return sum, errors.New("every worker exited early; see the worker log in the results directory")
			}
		}
	}

	sum.Killed = stopWorkers(procs, p.Worker, p.Log)
	sum.Status = status()

	// The final read runs even after an interrupt: it is what makes the partial history checkable.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	final, n, err := finalRead(fctx, storage, p.History)
	sum.FinalValue, sum.WriteLogEntries = final, n
	if err != nil {
		return sum, fmt.Errorf("final read: %w", err)
	}
	return sum, nil
}

func startWorkers(p Params, c *counters) ([]*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable to start workers: %w", err)
	}
	var procs []*proc
	for n := 0; n < p.Clients; n++ {
		cfg := p.Worker
		cfg.Process, cfg.Processes = n, p.Clients
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), WorkerEnv+"=1")
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
			readEvents(stdout, p, c)
			_ = cmd.Wait()
		}()
	}
	return procs, nil
}

// readEvents records a worker's events until its stdout closes.
func readEvents(r io.Reader, p Params, c *counters) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			p.Log.Error("unreadable worker event", "line", sc.Text(), "err", err)
			continue
		}
		c.events.Add(1)
		if e.Kind == EvOp && e.Op != nil {
			if err := p.History.Append(*e.Op); err != nil {
				p.Log.Error("history write failed", "err", err)
			}
			count(c, e.Op)
		}
		if p.OnEvent != nil {
			p.OnEvent(e)
		}
	}
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
	_ = pr.cmd.Process.Signal(syscall.SIGCONT)
	_ = pr.cmd.Process.Kill()
	pr.stdin.Close()
}

// finalRead appends the harness's read of the counter and the storage's write log to the history.
func finalRead(ctx context.Context, s *Storage, h *history.Writer) (*int64, int, error) {
	const finalClient = -1 // a client of its own: the harness
	inv := history.Op{Time: history.Now(), Process: history.HarnessProcess, Client: finalClient, Type: history.Invoke, F: history.Read}
	if err := h.Append(inv); err != nil {
		return nil, 0, err
	}
	v, err := s.Read(ctx)
	done := history.Op{Time: history.Now(), Process: history.HarnessProcess, Client: finalClient, F: history.Read}
	if err != nil {
		done.Type, done.Error = history.Fail, err.Error()
		_ = h.Append(done)
		return nil, 0, err
	}
	done.Type, done.Value = history.OK, history.Int64(v)
	if err := h.Append(done); err != nil {
		return nil, 0, err
	}
	entries, err := s.WriteLog(ctx)
	if err != nil {
		return &v, 0, err
	}
	now := history.Now()
	for i, e := range entries {
		op := history.Op{Time: now, Process: history.HarnessProcess, Client: finalClient, Type: history.OK, F: history.WriteLog,
			ID: e.OpID, Value: history.Int64(e.Value), Seq: int64(i + 1)}
		if err := h.Append(op); err != nil {
			return &v, i, err
		}
	}
	return &v, len(entries), nil
}
