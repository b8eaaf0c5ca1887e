package nemesis

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/locktest/locktest/cluster"

	"github.com/locktest/locktest/internal/named"
)

// FaultKind is one kind of fault: everything locktest knows about it in one value. It says what
// its targets are, which step options it takes, whether it can act on a backend's nodes and why
// not, what a run needs for it, how a random schedule draws one, and how a step becomes a Fault.
// FaultKinds lists them all; nothing else switches on a fault kind's name.
type FaultKind struct {
	Name Kind
	// Aim is what its targets are.
	Aim Aim
	// NeedsLinks says a run with this fault must route clients through delaying proxies.
	NeedsLinks bool
	// Options are the step options it takes besides targets and duration (see Step).
	Options []string
	// reach, if set, says why the fault cannot act on lock nodes of kind k ("" if it can).
	reach func(k *cluster.Kind) string
	// check, if set, validates its options' values.
	check func(s Step) error
	// draw fills in a random step's targets and options; it returns false when the run offers
	// nothing to aim at.
	draw func(rng *rand.Rand, p RandomParams, s *Step) bool
	// build makes the Fault a step describes, its targets parsed.
	build func(e Env, s Step, ts []Target) (Fault, error)
}

// Step options, as scenario files write them.
const (
	OptDelta   = "delta"
	OptMode    = "mode"
	OptFrom    = "from"
	OptStrobe  = "strobe"
	OptRestart = "restart_at_once"
)

// FaultKinds lists every fault kind, in the order help texts show them.
var FaultKinds = []*FaultKind{
	{
		Name: Partition, Aim: AimNodes, Options: []string{OptMode, OptFrom},
		check: func(s Step) error {
			if s.Mode != "" && s.Mode != Drop && s.Mode != Reject {
				return fmt.Errorf("mode %q: a partition drops or rejects (drop, reject)", s.Mode)
			}
			return nil
		},
		draw: func(rng *rand.Rand, p RandomParams, s *Step) bool {
			s.Targets = pickNodes(rng, p.Nodes, partitionSize(rng, len(p.Nodes)))
			return len(s.Targets) > 0
		},
		build: func(e Env, s Step, ts []Target) (Fault, error) {
			nodes, err := e.nodes(ts)
			if err != nil {
				return nil, err
			}
			peers, err := e.peers(s.From)
			if err != nil {
				return nil, err
			}
			return NewPartition(e.Control, nodes, peers, s.Mode), nil
		},
	},
	{
		Name: PauseNode, Aim: AimNodes,
		draw: drawOneNode,
		build: func(e Env, _ Step, ts []Target) (Fault, error) {
			nodes, err := e.nodes(ts)
			if err != nil {
				return nil, err
			}
			return NewPauseNode(e.Control, nodes...), nil
		},
	},
	{
		Name: PauseClient, Aim: AimClient,
		draw: func(_ *rand.Rand, _ RandomParams, s *Step) bool {
			s.Targets = []string{HolderClient}
			return true
		},
		build: func(e Env, _ Step, ts []Target) (Fault, error) {
			p, err := ts[0].Process()
			if err != nil {
				return nil, err
			}
			return NewPauseClient(e.Clients, p), nil
		},
	},
	{
		Name: Clock, Aim: AimNodes, Options: []string{OptDelta, OptStrobe},
		reach: func(k *cluster.Kind) string { return k.NoClock },
		check: func(s Step) error {
			if s.StrobePeriod < 0 {
				return fmt.Errorf("strobe needs a positive period")
			}
			return nil
		},
		draw: func(rng *rand.Rand, p RandomParams, s *Step) bool {
			s.Targets = pickNodes(rng, p.Nodes, 1)
			// Forward by more than a lease: keys on that node expire at once. One time in three
			// the clock strobes between the real time and that, several times a lease.
			s.Delta = 2 * p.TTL
			if rng.IntN(3) == 0 {
				s.StrobePeriod = max(p.TTL/4, 100*time.Millisecond)
			}
			return len(s.Targets) > 0
		},
		build: func(e Env, s Step, ts []Target) (Fault, error) {
			nodes, err := e.nodes(ts)
			if err != nil {
				return nil, err
			}
			for _, n := range nodes {
				if k := cluster.KindOf(n); k.NoClock != "" {
					return nil, fmt.Errorf("%w: clock fault on %s (%s): %s", ErrNotApplicable, n.Name, k, k.NoClock)
				}
			}
			if s.StrobePeriod > 0 {
				fs := make(all, len(nodes))
				for i, n := range nodes {
					fs[i] = NewClockStrobe(e.Control, n, 0, s.Delta, s.StrobePeriod)
				}
				return fs, nil
			}
			return newClockFault(e.Control, nodes, s.Delta), nil
		},
	},
	{
		Name: Kill, Aim: AimNodes, Options: []string{OptRestart},
		draw: func(rng *rand.Rand, p RandomParams, s *Step) bool {
			s.Targets = pickNodes(rng, p.Nodes, 1)
			s.RestartAtOnce = rng.IntN(2) == 0
			return len(s.Targets) > 0
		},
		build: func(e Env, s Step, ts []Target) (Fault, error) {
			nodes, err := e.nodes(ts)
			if err != nil {
				return nil, err
			}
			return NewKill(e.Control, s.RestartAtOnce, nodes...), nil
		},
	},
	{
		Name: Delay, Aim: AimLinks, NeedsLinks: true, Options: []string{OptDelta},
		draw: func(rng *rand.Rand, p RandomParams, s *Step) bool {
			s.Targets = pickNodes(rng, p.Nodes, 1)
			// Either slow but within the per-node timeout (TTL/20), or far beyond it.
			s.Delta = []time.Duration{p.TTL / 40, p.TTL / 2}[rng.IntN(2)]
			return len(s.Targets) > 0
		},
		build: func(e Env, s Step, ts []Target) (Fault, error) {
			if e.Links == nil {
				return nil, errors.New("delay needs the run to route clients through delaying proxies")
			}
			return NewDelay(e.Links, s.Delta, ts...)
		},
	},
	{
		Name: Cut, Aim: AimLinks, NeedsLinks: true, Options: []string{OptMode},
		check: func(s Step) error {
			if s.Mode != "" && s.Mode != Drop && s.Mode != Reject {
				return fmt.Errorf("mode %q: a cut drops or rejects (drop, reject)", s.Mode)
			}
			return nil
		},
		draw: func(rng *rand.Rand, p RandomParams, s *Step) bool {
			// One client loses every lock node but keeps the storage (a holder that cannot
			// release, extend or see its lock go, while it can still write), or the reverse:
			// it keeps its lock but not the storage, where a dropped write in flight is
			// delivered late, after its lease (K2-C).
			if p.Clients < 1 {
				return false
			}
			side := []string{LockNodes, cluster.StorageName}[rng.IntN(2)]
			s.Targets = []string{fmt.Sprintf("p%d:%s", rng.IntN(p.Clients), side)}
			s.Mode = []PartitionMode{Drop, Reject}[rng.IntN(2)]
			return true
		},
		build: func(e Env, s Step, ts []Target) (Fault, error) {
			if e.Links == nil {
				return nil, errors.New("cut needs the run to route clients through proxies")
			}
			return NewCut(e.Links, s.Mode, ts...)
		},
	},
}

// drawOneNode aims a random step at one lock node.
func drawOneNode(rng *rand.Rand, p RandomParams, s *Step) bool {
	s.Targets = pickNodes(rng, p.Nodes, 1)
	return len(s.Targets) > 0
}

// Kinds lists every fault kind's name, in the order of FaultKinds.
var Kinds = func() []Kind {
	out := make([]Kind, len(FaultKinds))
	for i, fk := range FaultKinds {
		out[i] = fk.Name
	}
	return out
}()

// Of returns the fault kind named k, or an error listing the names.
func Of(k Kind) (*FaultKind, error) {
	return named.Find(FaultKinds, func(fk *FaultKind) Kind { return fk.Name }, k, "fault")
}

// AppliesTo says whether the fault can act on a backend whose lock nodes are of kind nodes (nil:
// it has none), and if not, why. Every fault but a client pause aims at lock nodes or at the
// clients' paths to them.
func (fk *FaultKind) AppliesTo(nodes *cluster.Kind) (bool, string) {
	switch {
	case fk.Aim == AimClient:
		return true, ""
	case nodes == nil:
		return false, "it has no lock nodes to fault"
	case fk.reach != nil:
		if why := fk.reach(nodes); why != "" {
			return false, fmt.Sprintf("%s faults are not applicable: %s", fk.Name, why)
		}
	}
	return true, ""
}

// Check validates a step of this kind: its targets' form, and that it sets only the options this
// kind takes, with values it accepts.
func (fk *FaultKind) Check(s Step) error {
	if _, err := ParseTargets(fk.Aim, s.Targets); err != nil {
		return fmt.Errorf("%s: %w", fk.Name, err)
	}
	for _, o := range s.options() {
		if !slices.Contains(fk.Options, o) {
			takes := "no options"
			if len(fk.Options) > 0 {
				takes = "only " + strings.Join(fk.Options, ", ")
			}
			return fmt.Errorf("%s: option %s does not apply (it takes %s)", fk.Name, o, takes)
		}
	}
	if fk.check != nil {
		if err := fk.check(s); err != nil {
			return fmt.Errorf("%s: %w", fk.Name, err)
		}
	}
	return nil
}

// options names the options s sets.
func (s Step) options() []string {
	var out []string
	if s.Delta != 0 {
		out = append(out, OptDelta)
	}
	if s.Mode != "" {
		out = append(out, OptMode)
	}
	if len(s.From) > 0 {
		out = append(out, OptFrom)
	}
	if s.StrobePeriod != 0 {
		out = append(out, OptStrobe)
	}
	if s.RestartAtOnce {
		out = append(out, OptRestart)
	}
	return out
}
