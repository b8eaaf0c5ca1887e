package nemesis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/locktest/locktest/cluster"
)

// ErrNotApplicable means a fault cannot act on its target, and a run must say so rather than
// pretend it happened.
var ErrNotApplicable = errors.New("fault not applicable")

// Wall-clock faults on Redis nodes.
//
// Containers share the host's kernel clock, and setting it would move the whole machine. Instead
// the Redis image preloads a small library into redis-server (images/redis/clockshim.c) that adds
// an offset to every CLOCK_REALTIME reading (clock_gettime, gettimeofday, time); monotonic clocks
// are left alone. The offset lives in a file inside the container, which the shim maps at start
// and reads on every call, so it can be changed while redis-server runs. Redis 7.0 expires keys
// by the wall clock, so a forward jump expires lock keys early: Kleppmann's Redlock scenario.
//
// Scope, honestly: only redis-server sees the shift. Other processes in the container (a docker
// exec, redis-cli) see the real clock, and servers that do not read the clock through libc (etcd
// and other Go programs) or that expire leases on monotonic time (etcd, ZooKeeper) cannot be
// shifted this way; a clock fault on them must be reported as not applicable, not faked.
//
// The offset is absolute, not cumulative: two clock faults on one node do not add up, and healing
// either sets the node back to 0. It survives a restart of the container (the file is in the
// container's file system), like a wrong hardware clock would.

// clockTool is the offset file's writer in the locktest Redis image (built from clockshim.c). It
// changes the offset with one atomic 64-bit store into the mapped file, so redis-server never
// reads a half-written value; a shell write (printf > file, dd) could not promise that.
const clockTool = "/usr/local/bin/locktest-clock"

// clockFlipTimeout bounds one offset change of a strobe (a docker exec, normally tens of ms).
const clockFlipTimeout = 10 * time.Second

// SetClockOffset sets the wall-clock offset of the redis-server in the container: from the next
// clock reading on, it sees the real time plus offset (negative moves it back). The offset is
// absolute; 0 is the real clock. The change is in place, without restarting anything.
func SetClockOffset(ctx context.Context, d NodeControl, containerID string, offset time.Duration) error {
	if _, err := d.Exec(ctx, containerID, clockTool, "set", strconv.FormatInt(int64(offset), 10)); err != nil {
		return fmt.Errorf("set clock offset %v: %w", offset, err)
	}
	return nil
}

// ClockOffset reads back the wall-clock offset of the container's redis-server.
func ClockOffset(ctx context.Context, d NodeControl, containerID string) (time.Duration, error) {
	out, err := d.Exec(ctx, containerID, clockTool, "get")
	if err != nil {
		return 0, fmt.Errorf("read clock offset: %w", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read clock offset: unexpected output %q", strings.TrimSpace(out))
	}
	return time.Duration(ns), nil
}

// checkClockShim makes sure the node's server (its container's PID 1) runs with the shim, so a
// clock fault never silently does nothing.
func checkClockShim(ctx context.Context, d NodeControl, n cluster.Node) error {
	if _, err := d.Exec(ctx, n.ContainerID, clockTool, "mapped", "1"); err != nil {
		return fmt.Errorf("clock fault on %s needs redis-server started with the locktest clock shim (the locktest Redis image): %w", n.Name, err)
	}
	return nil
}

func signed(d time.Duration) string {
	if d >= 0 {
		return "+" + d.String()
	}
	return d.String()
}

// NewClockBump returns a fault that sets the node's redis-server wall clock to delta ahead of the
// real one (behind, if negative) on Inject, and back to the real clock (offset 0) on Heal. Inject
// sets the offset rather than adding to it, so injecting twice is the same as once and Heal always
// lands on the real clock. Heal without Inject does nothing.
func NewClockBump(d NodeControl, node cluster.Node, delta time.Duration) Fault {
	return &clockBump{d: d, node: node, delta: delta}
}

type clockBump struct {
	d     NodeControl
	node  cluster.Node
	delta time.Duration

	mu sync.Mutex
	// shifted is true from the moment Inject tries to change the offset until a Heal succeeds:
	// an Inject that failed half-way (an exec that timed out after all) is healed too.
	shifted bool
}

func (f *clockBump) Kind() Kind        { return Clock }
func (f *clockBump) Targets() []string { return []string{f.node.Name} }
func (f *clockBump) Detail() string {
	return "redis-server wall clock " + signed(f.delta)
}

func (f *clockBump) Inject(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := checkClockShim(ctx, f.d, f.node); err != nil {
		return err
	}
	f.shifted = true
	if err := SetClockOffset(ctx, f.d, f.node.ContainerID, f.delta); err != nil {
		return fmt.Errorf("clock bump on %s: %w", f.node.Name, err)
	}
	return nil
}

func (f *clockBump) Heal(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.shifted {
		return nil
	}
	if err := SetClockOffset(ctx, f.d, f.node.ContainerID, 0); err != nil {
		return fmt.Errorf("heal clock on %s: %w", f.node.Name, err)
	}
	f.shifted = false
	return nil
}

// NewClockStrobe returns a fault that makes the node's redis-server wall clock jump back and forth:
// Inject sets the offset to a and then, in the background, flips it between b and a every period
// until Heal, which stops the flipping and sets the offset back to 0. Heal is idempotent and does
// nothing without Inject. The result is a *ClockStrobe, whose Flips reports how the flipping went.
//
// Each flip is a docker exec (tens of milliseconds), so periods much below 100ms are not kept; a
// flip that takes longer than a period delays the next one rather than piling up.
func NewClockStrobe(d NodeControl, node cluster.Node, a, b time.Duration, period time.Duration) Fault {
	return &ClockStrobe{d: d, node: node, a: a, b: b, period: period}
}

// ClockStrobe is the fault made by NewClockStrobe.
type ClockStrobe struct {
	d      NodeControl
	node   cluster.Node
	a, b   time.Duration
	period time.Duration

	op      sync.Mutex    // serialises Inject and Heal
	shifted bool          // as in clockBump
	stop    chan struct{} // closed by Heal to stop the flipper; nil when it does not run
	done    chan struct{} // closed by the flipper when it has stopped

	mu       sync.Mutex // guards the counters, which the flipper updates
	flips    int
	failed   int
	firstErr error
}

func (f *ClockStrobe) Kind() Kind        { return Clock }
func (f *ClockStrobe) Targets() []string { return []string{f.node.Name} }
func (f *ClockStrobe) Detail() string {
	return fmt.Sprintf("redis-server wall clock flips between %s and %s every %v", signed(f.a), signed(f.b), f.period)
}

// Inject sets the offset to a and starts flipping. The flipping outlives ctx (only its values are
// kept): it runs until Heal.
func (f *ClockStrobe) Inject(ctx context.Context) error {
	f.op.Lock()
	defer f.op.Unlock()
	if f.period <= 0 {
		return fmt.Errorf("clock strobe on %s: period %v is not positive", f.node.Name, f.period)
	}
	if f.stop != nil {
		return fmt.Errorf("clock strobe on %s: already injected", f.node.Name)
	}
	if err := checkClockShim(ctx, f.d, f.node); err != nil {
		return err
	}
	f.shifted = true
	if err := SetClockOffset(ctx, f.d, f.node.ContainerID, f.a); err != nil {
		return fmt.Errorf("clock strobe on %s: %w", f.node.Name, err)
	}
	f.stop, f.done = make(chan struct{}), make(chan struct{})
	go f.flip(context.WithoutCancel(ctx), f.stop, f.done)
	return nil
}

func (f *ClockStrobe) flip(ctx context.Context, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(f.period)
	defer tick.Stop()
	next := f.b
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		// Not cancelled by Heal: cancelling a docker exec does not stop the process inside the
		// container, which could then land after Heal's reset. Heal waits for it instead.
		fctx, cancel := context.WithTimeout(ctx, clockFlipTimeout)
		err := SetClockOffset(fctx, f.d, f.node.ContainerID, next)
		cancel()
		f.mu.Lock()
		if err != nil {
			f.failed++
			if f.firstErr == nil {
				f.firstErr = err
			}
		} else {
			f.flips++
		}
		f.mu.Unlock()
		if err == nil { // on failure, try the same value again at the next tick
			if next == f.b {
				next = f.a
			} else {
				next = f.b
			}
		}
	}
}

// Heal stops the flipping (waiting for a flip in progress) and sets the offset back to 0.
func (f *ClockStrobe) Heal(ctx context.Context) error {
	f.op.Lock()
	defer f.op.Unlock()
	if f.stop != nil {
		close(f.stop)
		<-f.done
		f.stop, f.done = nil, nil
	}
	if !f.shifted {
		return nil
	}
	if err := SetClockOffset(ctx, f.d, f.node.ContainerID, 0); err != nil {
		return fmt.Errorf("heal clock on %s: %w", f.node.Name, err)
	}
	f.shifted = false
	return nil
}

// Flips reports how many background offset changes succeeded and failed so far, and the first
// failure. The initial setting to a in Inject is not counted.
func (f *ClockStrobe) Flips() (ok, failed int, firstErr error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flips, f.failed, f.firstErr
}
