package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/locktest/locktest/cluster"
)

// Step is one fault of a schedule: at At (since the workload started) inject a fault of Kind on
// Targets, and heal it Duration later.
//
// A scenario step embeds it, so its YAML names are the scenario file's: fault, targets, for,
// delta, restart_at_once, mode, from, strobe (At is the schedule's own; a scenario says when with
// its steps).
type Step struct {
	At       time.Duration `json:"at" yaml:"-"`
	Kind     Kind          `json:"kind" yaml:"fault,omitempty"`
	Targets  []string      `json:"targets" yaml:"targets,omitempty"`
	Duration time.Duration `json:"duration" yaml:"for,omitempty"`
	// Delta is the clock shift (clock) or the added latency (delay).
	Delta time.Duration `json:"delta,omitempty" yaml:"delta,omitempty"`
	// RestartAtOnce makes a kill a crash-restart instead of a node that stays down until heal.
	RestartAtOnce bool `json:"restart_at_once,omitempty" yaml:"restart_at_once,omitempty"`
	// Mode is the partition mode (drop by default).
	Mode PartitionMode `json:"mode,omitempty" yaml:"mode,omitempty"`
	// From are a partition's peers: "clients" (the default) and/or node names, to cut nodes off
	// from each other.
	From []string `json:"from,omitempty" yaml:"from,omitempty"`
	// StrobePeriod, for a clock fault, flips the offset between 0 and Delta every period instead
	// of holding it at Delta.
	StrobePeriod time.Duration `json:"strobe_period,omitempty" yaml:"strobe,omitempty"`
}

func (s Step) String() string {
	extra := ""
	if s.Delta != 0 {
		extra = fmt.Sprintf(" %+v", s.Delta)
	}
	if s.RestartAtOnce {
		extra = " restart-at-once"
	}
	if s.StrobePeriod > 0 {
		extra += fmt.Sprintf(" strobing every %v", s.StrobePeriod)
	}
	if len(s.From) > 0 {
		extra += " from " + strings.Join(s.From, ",")
	}
	return fmt.Sprintf("%v: %s%s on %s for %v", s.At, s.Kind, extra, strings.Join(s.Targets, ","), s.Duration)
}

// ParseKinds parses a comma-separated list of fault kinds; "all" means every kind, "" or "none"
// no fault.
func ParseKinds(s string) ([]Kind, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	if s == "all" {
		return slices.Clone(Kinds), nil
	}
	var out []Kind
	for _, part := range strings.Split(s, ",") {
		fk, err := Of(Kind(strings.TrimSpace(part)))
		if err != nil {
			return nil, fmt.Errorf("%w, or all", err)
		}
		if !slices.Contains(out, fk.Name) {
			out = append(out, fk.Name)
		}
	}
	return out, nil
}

// RandomParams configures RandomSchedule.
type RandomParams struct {
	Seed  int64
	Kinds []Kind
	// Interval is both how long each fault lasts and the quiet time between two faults.
	Interval time.Duration
	// Until is when the last fault must be healed (leave the end of a run fault-free so it can
	// recover before the final read).
	Until time.Duration
	// Nodes are the lock nodes' names that node faults may target.
	Nodes []string
	// Clients is how many client processes the run has, that link faults may target.
	Clients int
	// TTL scales the clock shifts and delays, so that they matter for the lease.
	TTL time.Duration
	_   struct{}
}

// RandomSchedule draws a schedule from p.Seed: the same parameters always give the same steps.
// Faults come one at a time, Jepsen-style: quiet, fault, quiet, fault...
func RandomSchedule(p RandomParams) []Step {
	if len(p.Kinds) == 0 || p.Interval <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(p.Seed), 0x10c7e57))
	var steps []Step
	for at := p.Interval; at+p.Interval <= p.Until; at += 2 * p.Interval {
		k := p.Kinds[rng.IntN(len(p.Kinds))]
		s := Step{At: at, Kind: k, Duration: p.Interval}
		fk, err := Of(k)
		if err != nil || !fk.draw(rng, p, &s) {
			continue // an unknown kind (refused earlier), or nothing to aim at (nolock has no nodes)
		}
		steps = append(steps, s)
	}
	return steps
}

// partitionSize picks one node, a minority, a majority or all of them.
func partitionSize(rng *rand.Rand, n int) int {
	sizes := []int{1, (n - 1) / 2, n/2 + 1, n}
	s := sizes[rng.IntN(len(sizes))]
	return max(1, min(s, n))
}

func pickNodes(rng *rand.Rand, nodes []string, k int) []string {
	if len(nodes) == 0 {
		return nil
	}
	perm := rng.Perm(len(nodes))
	out := make([]string, 0, k)
	for _, i := range perm[:min(k, len(nodes))] {
		out = append(out, nodes[i])
	}
	slices.Sort(out)
	return out
}

// Env is what it takes to turn a Step into a Fault.
type Env struct {
	Control NodeControl
	Nodes   []cluster.Node // every node faults may target (lock nodes, and the storage node)
	Clients Clients
	// Links, when the run routes clients through proxies, are the delayable paths.
	Links Links
}

// Build makes the Fault a step describes.
func (e Env) Build(s Step) (Fault, error) {
	fk, err := Of(s.Kind)
	if err != nil {
		return nil, err
	}
	if err := fk.Check(s); err != nil {
		return nil, err
	}
	ts, _ := ParseTargets(fk.Aim, s.Targets) // checked above
	return fk.build(e, s, ts)
}

// peers turns partition peers (ClientsPeer or node names) into what NewPartition takes.
func (e Env) peers(from []string) ([]string, error) {
	if len(from) == 0 {
		return []string{ClientsPeer}, nil
	}
	var out []string
	for _, p := range from {
		if p == ClientsPeer {
			out = append(out, p)
			continue
		}
		ns, err := e.nodes([]Target{{Node: p}})
		if err != nil {
			return nil, fmt.Errorf("partition peer: %w", err)
		}
		out = append(out, ns[0].IP)
	}
	return out, nil
}

func (e Env) nodes(ts []Target) ([]cluster.Node, error) {
	if len(ts) == 0 {
		return nil, errors.New("fault without targets")
	}
	var out []cluster.Node
	for _, t := range ts {
		i := slices.IndexFunc(e.Nodes, func(n cluster.Node) bool { return n.Name == t.Node })
		if i < 0 {
			return nil, fmt.Errorf("no node named %q", t.Node)
		}
		out = append(out, e.Nodes[i])
	}
	return out, nil
}

// holderWait is how long a fault aimed at the lock holder waits for somebody to hold the lock.
const holderWait = 5 * time.Second

// Run executes steps relative to start, then heals whatever is still active. It returns when
// every step has run or ctx ends. Failures to inject are logged and the schedule goes on.
func (n *Nemesis) Run(ctx context.Context, env Env, start time.Time, steps []Step) {
	defer n.HealAll(ctx)
	for _, s := range steps {
		if !sleepUntil(ctx, start.Add(s.At)) {
			return
		}
		f, err := env.Build(s)
		if err != nil {
			n.log.Error("bad schedule step", "step", s.String(), "err", err)
			continue
		}
		id, err := n.Inject(ctx, f)
		if err != nil {
			n.log.Warn("fault not injected", "step", s.String(), "err", err)
			continue
		}
		sleepUntil(ctx, time.Now().Add(s.Duration))
		n.Heal(ctx, id)
		if ctx.Err() != nil {
			return
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
