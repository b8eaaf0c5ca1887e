package scenario

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/workload"
)

// Workers is what the player needs from the running workload.
type Workers interface {
	// CatchAfter waits for a worker to reach hook with match true and keeps it waiting there;
	// armed, if not nil, runs once the catch is in force.
	CatchAfter(ctx context.Context, hook workload.Hook, match func(workload.Event) bool, armed func()) (workload.Event, error)
	// Continue lets a waiting worker go on.
	Continue(process int, hook workload.Hook) error
}

// Player plays a scenario against a running workload.
type Player struct {
	s   *Scenario
	nem *nemesis.Nemesis
	env nemesis.Env
	w   Workers
	log *slog.Logger

	mu     sync.Mutex
	bound  map[string]int           // name → process, from Wait steps with As
	held   map[string]workload.Hook // name → hook the held process waits at
	faults map[string]string        // fault name → nemesis window id
	// skipped counts steps that could not play (KeepGoing scenarios only).
	skipped int
}

// Skipped says how many steps a KeepGoing scenario skipped because they could not play.
func (p *Player) Skipped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.skipped
}

// NewPlayer prepares s for a workload w, injecting faults through nem built from env.
func NewPlayer(s *Scenario, nem *nemesis.Nemesis, env nemesis.Env, w Workers, log *slog.Logger) *Player {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Player{s: s, nem: nem, env: env, w: w, log: log,
		bound: map[string]int{}, held: map[string]workload.Hook{}, faults: map[string]string{}}
}

// matches says whether a hook arrival satisfies a Wait step's condition.
func (p *Player) matches(t Trigger, e workload.Event) bool {
	if t.Holding != nil && *t.Holding != e.Holding {
		return false
	}
	if t.InLease != nil && *t.InLease != e.InLease {
		return false
	}
	if t.Process == "" {
		return true
	}
	want, negate := strings.CutPrefix(t.Process, "!")
	p.mu.Lock()
	n, ok := p.bound[want]
	p.mu.Unlock()
	if !ok {
		n, ok = nemesis.ProcessName(want)
	}
	if !ok {
		return false
	}
	return (e.Process == n) != negate
}

func (p *Player) cont(process int, hook workload.Hook) {
	if err := p.w.Continue(process, hook); err != nil {
		p.log.Warn("scenario: continue failed", "process", process, "hook", hook, "err", err)
	}
}

// Play runs the steps in order, relative to start (when the workload started). It returns when
// the last step is done, ctx ends, or a step fails. Held clients are always released and faults
// with a duration healed in time; faults left active are for the caller's HealAll.
func (p *Player) Play(ctx context.Context, start time.Time) error {
	var pending sync.WaitGroup
	defer pending.Wait()
	defer p.releaseAll()
	for i, st := range p.s.Steps {
		if err := p.step(ctx, start, st, &pending); err != nil {
			if !p.s.KeepGoing {
				return fmt.Errorf("scenario step %d: %w", i+1, err)
			}
			p.log.Info("scenario: step skipped", "step", i+1, "err", err)
			p.mu.Lock()
			p.skipped++
			p.mu.Unlock()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

func (p *Player) step(ctx context.Context, start time.Time, st Step, pending *sync.WaitGroup) error {
	switch {
	case st.At != nil:
		sleep(ctx, time.Until(start.Add(st.At.D())))
	case st.Sleep != nil:
		sleep(ctx, st.Sleep.D())
	case st.Wait != nil:
		return p.wait(ctx, st)
	case st.Release != "":
		p.mu.Lock()
		hook, ok := p.held[st.Release]
		n := p.bound[st.Release]
		delete(p.held, st.Release)
		p.mu.Unlock()
		if !ok {
			return fmt.Errorf("release %s: not held", st.Release)
		}
		p.log.Info("scenario: release", "client", st.Release, "process", n, "hook", hook, "hold_at", st.HoldAt)
		if st.HoldAt == "" {
			p.cont(n, hook)
			return nil
		}
		return p.releaseAndHold(ctx, st.Release, n, hook, st.HoldAt)
	case st.Kind != "":
		return p.fault(ctx, st, pending)
	case st.Heal == "all":
		return p.nem.HealAll(ctx)
	case st.Heal != "":
		p.mu.Lock()
		id, ok := p.faults[st.Heal]
		p.mu.Unlock()
		if !ok {
			return fmt.Errorf("heal %s: no fault by that name", st.Heal)
		}
		return p.nem.Heal(ctx, id)
	}
	return nil
}

func (p *Player) wait(ctx context.Context, st Step) error {
	timeout := st.Wait.Timeout.D()
	if timeout == 0 {
		timeout = defaultWait
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	e, err := p.w.CatchAfter(tctx, st.Wait.Hook, func(e workload.Event) bool { return p.matches(*st.Wait, e) }, nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil // the run ended first
		}
		return fmt.Errorf("no client reached %s matching %+v within %v: %w", st.Wait.Hook, *st.Wait, timeout, err)
	}
	p.log.Info("scenario: wait matched", "hook", e.Hook, "process", e.Process, "holding", e.Holding, "as", st.As, "hold", st.Hold)
	p.mu.Lock()
	defer p.mu.Unlock()
	if st.As != "" {
		p.bound[st.As] = e.Process
	}
	if !st.Hold {
		p.cont(e.Process, e.Hook)
		return nil
	}
	name := st.As
	if name == "" {
		name = "p" + strconv.Itoa(e.Process)
		p.bound[name] = e.Process
	}
	p.held[name] = e.Hook
	return nil
}

func (p *Player) fault(ctx context.Context, st Step, pending *sync.WaitGroup) error {
	step, err := p.resolve(st.Step)
	if err != nil {
		return err
	}
	f, err := p.env.Build(step)
	if err != nil {
		return err
	}
	id, err := p.nem.Inject(ctx, f)
	if err != nil {
		return err
	}
	if st.Name != "" {
		p.mu.Lock()
		p.faults[st.Name] = id
		p.mu.Unlock()
	}
	if st.Duration > 0 {
		pending.Add(1)
		go func() {
			defer pending.Done()
			sleep(ctx, st.Duration)
			p.nem.Heal(ctx, id)
		}()
	}
	return nil
}

// resolve replaces the client names a fault step's targets use ("A", "A:storage") with the
// processes earlier steps bound them to ("p2", "p2:storage").
func (p *Player) resolve(s nemesis.Step) (nemesis.Step, error) {
	fk, err := nemesis.Of(s.Kind)
	if err != nil {
		return s, err
	}
	ts, err := nemesis.ParseTargets(fk.Aim, s.Targets)
	if err != nil {
		return s, err
	}
	p.mu.Lock()
	for i, t := range ts {
		if n, ok := p.bound[t.Client]; ok {
			ts[i].Client = "p" + strconv.Itoa(n)
		}
	}
	p.mu.Unlock()
	s.Targets = nemesis.WriteTargets(ts)
	return s, nil
}

// defaultWait is how long a step waits for a client to reach a hook unless it says otherwise.
const defaultWait = 30 * time.Second

// releaseAndHold lets held client name (process n, waiting at hook) go and holds it again at its
// next arrival at holdAt. The catch is armed before the release is sent: a wait step after a
// plain release would race the client, which may pass holdAt before the catch is in force.
func (p *Player) releaseAndHold(ctx context.Context, name string, n int, hook, holdAt workload.Hook) error {
	tctx, cancel := context.WithTimeout(ctx, defaultWait)
	defer cancel()
	e, err := p.w.CatchAfter(tctx, holdAt, func(e workload.Event) bool { return e.Process == n }, func() { p.cont(n, hook) })
	if err != nil {
		if ctx.Err() != nil {
			return nil // the run ended first
		}
		return fmt.Errorf("release %s: it did not reach %s within %v: %w", name, holdAt, defaultWait, err)
	}
	p.log.Info("scenario: held again", "client", name, "process", n, "hook", e.Hook)
	p.mu.Lock()
	p.held[name] = e.Hook
	p.mu.Unlock()
	return nil
}

// releaseAll lets every held client go (a scenario that ends or fails must not strand one).
func (p *Player) releaseAll() {
	p.mu.Lock()
	held := p.held
	p.held = map[string]workload.Hook{}
	p.mu.Unlock()
	for name, hook := range held {
		p.cont(p.bound[name], hook)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ErrExpectation means a run's verdict differs from the scenario's expectation.
var ErrExpectation = errors.New("scenario expectation not met")
