package workload

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/lock"
)

// MaybeRunWorker turns the current process into a worker and exits when WorkerEnv is set; it
// returns at once otherwise. Call it first thing in main (and in TestMain of packages whose tests
// start workers from the test binary).
func MaybeRunWorker() {
	if os.Getenv(WorkerEnv) == "" {
		return
	}
	if err := runWorker(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "worker: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

type worker struct {
	cfg     WorkerConfig
	locker  lock.Locker
	storage *Storage

	outMu sync.Mutex
	out   *json.Encoder

	client int // current logical client id; advances by cfg.Processes after an info op
	seq    int // operation counter, for op ids

	stopOnce sync.Once
	stopped  chan struct{} // closed by CmdStop or when the coordinator goes away

	hookMu sync.Mutex
	waitAt map[Hook]bool
	resume map[Hook]chan struct{}

	holding bool
	token   uint64
}

func runWorker(in io.Reader, out io.Writer) error {
	br := bufio.NewReader(in)
	line, err := br.ReadBytes('\n')
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
	w := &worker{
		cfg:     cfg,
		locker:  locker,
		storage: NewStorage(cfg.StorageAddr, cfg.StorageTimeout, cfg.Fencing),
		out:     json.NewEncoder(out),
		client:  cfg.Process,
		stopped: make(chan struct{}),
		waitAt:  map[Hook]bool{},
		resume:  map[Hook]chan struct{}{},
	}
	defer w.storage.Close()
	for _, h := range Hooks {
		w.resume[h] = make(chan struct{}, 1)
	}
	for _, h := range cfg.WaitAt {
		w.waitAt[h] = true
	}
	go w.readCommands(br)
	w.emit(Event{Kind: EvReady, Process: cfg.Process, Time: history.Now()})
	w.loop()
	return nil
}

// readCommands applies coordinator commands until stdin closes. A closed stdin means the
// coordinator is gone, so the worker stops too.
func (w *worker) readCommands(br *bufio.Reader) {
	defer w.stop()
	dec := json.NewDecoder(br)
	for {
		var c Command
		if err := dec.Decode(&c); err != nil {
			return
		}
		switch c.Cmd {
		case CmdStop:
			w.stop()
		case CmdContinue:
			select {
			case w.resume[c.Hook] <- struct{}{}:
			default: // already resumable
			}
		case CmdWaitAt:
			w.hookMu.Lock()
			w.waitAt = map[Hook]bool{}
			for _, h := range c.Hooks {
				w.waitAt[h] = true
			}
			w.hookMu.Unlock()
		}
	}
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

func (w *worker) emit(e Event) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	// A broken pipe means the coordinator is gone; readCommands sees the same and stops us.
	_ = w.out.Encode(e)
}

// record emits a history record stamped now, and returns it.
func (w *worker) record(op history.Op) history.Op {
	op.Time = history.Now()
	op.Process = w.cfg.Process
	op.Client = w.client
	w.emit(Event{Kind: EvOp, Op: &op, Process: w.cfg.Process})
	if op.Type == history.Info {
		// Porcupine needs each client to be sequential. The unknown operation may still take
		// effect later, so later operations belong to a new client.
		w.client += w.cfg.Processes
	}
	return op
}

// hook reports arrival at h and waits there if told to. Stopping the worker releases the wait.
func (w *worker) hook(h Hook) {
	w.hookMu.Lock()
	wait := w.waitAt[h]
	w.hookMu.Unlock()
	w.emit(Event{Kind: EvHook, Hook: h, Time: history.Now(), Process: w.cfg.Process, Holding: w.holding, Token: w.token, Waiting: wait})
	if !wait {
		return
	}
	select {
	case <-w.resume[h]:
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
		w.holding, w.token = true, lease.Token
		w.hook(AfterAcquire)
		w.increment()
		w.release(lease)
		w.holding, w.token = false, 0
		w.hook(AfterRelease)
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
	lease, err := w.locker.Acquire(ctx)
	switch {
	case err == nil:
		w.record(history.Op{Type: history.OK, F: history.Acquire, Owner: lease.Owner, Token: lease.Token,
			Deadline: history.Now() + time.Until(lease.Deadline).Nanoseconds()})
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
	v, err := w.storage.Read(ctx, w.token)
	if err != nil {
		// Nothing was written (a failed or fenced read): the increment certainly had no effect.
		w.record(history.Op{Type: history.Fail, F: history.Incr, ID: id, Error: "read: " + err.Error()})
		return
	}
	w.hook(AfterRead)
	w.hook(BeforeWrite)
	if err := w.storage.Write(ctx, id, v+1, w.token); errors.Is(err, ErrFenced) {
		// The storage refused it: certainly no effect.
		w.record(history.Op{Type: history.Fail, F: history.Incr, ID: id, Value: history.Int64(v), Error: "write: " + err.Error()})
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
