// Package explore draws fault schedules that look for the stories by themselves. A random
// schedule of single faults at random times almost never lands where a lock is weak: a clock
// jump matters on a node of the current holder's majority while the holder is in its critical
// section, a crash-restart likewise, a failover while a fresh key is not yet replicated. A
// profile draws rounds of composed, holder-aware faults from the combinations the literature
// names - with the nodes, deltas, modes and timing drawn at random from the seed - and writes
// them as scenario steps, which the scenario player plays against the live workload. The same
// seed gives the same steps; the steps are written beside the run (explored.yaml), so a run can
// be replayed with --scenario and shrunk.
package explore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/scenario"
	"github.com/locktest/locktest/workload"

	"github.com/locktest/locktest/internal/named"
)

// Env is what a profile may aim at.
type Env struct {
	// Nodes are the lock nodes' names, in order ("n1".."n5"); Kind their server software.
	Nodes []string
	Kind  *cluster.Kind
	// SessionLease says the lock's lease is a session its client renews in the background
	// (lock.Driver.SessionLease): only a cut from the servers ends it behind a live holder.
	SessionLease bool
	// TTL scales every delay and hold; Until is when the last round must be over.
	TTL   time.Duration
	Until time.Duration
}

// Profile is a named set of moves a schedule draws its rounds from.
type Profile struct {
	Name string
	Doc  string
	// Moves are the combinations it draws from.
	Moves []*Move
}

// Move is one composed, holder-aware combination of faults: the steps of one round.
type Move struct {
	Name string
	// Story names the story the move is after (docs/scenarios.md).
	Story string
	// applies says whether the move can act on env, and if not, why.
	applies func(e Env) (bool, string)
	// draw writes one round's steps; A is the name its catch binds the holder to.
	draw func(r *rand.Rand, e Env, a string) []scenario.Step
}

// Profiles lists the profiles, in the order help texts show them.
var Profiles = []*Profile{
	{
		Name:  "kleppmann",
		Doc:   "the combinations Kleppmann's critique and antirez's reply discuss: a clock jump or a crash-restart on a node of the holder's majority, the holder's write delayed or held by a cut past its lease, a failover before the holder's key replicated, the holder of a session lease cut off from the servers past its session",
		Moves: []*Move{clockMajority, crashMajority, delayedWrite, failover, holderCutOff},
	},
}

// Of returns the profile named name.
func Of(name string) (*Profile, error) {
	return named.Find(Profiles, func(p *Profile) string { return p.Name }, name, "nemesis profile")
}

// Applicable are the profile's moves that can act on e, and why the others cannot.
func (p *Profile) Applicable(e Env) (moves []*Move, why []string) {
	for _, m := range p.Moves {
		if ok, reason := m.applies(e); ok {
			moves = append(moves, m)
		} else {
			why = append(why, m.Name+": "+reason)
		}
	}
	return moves, why
}

// Draw draws the schedule of a run from seed: rounds of the profile's applicable moves, with a
// quiet gap of up to a lease before each, as many as fit before e.Until. It returns nil when no
// move applies (the reasons are Applicable's).
func (p *Profile) Draw(seed int64, e Env) *scenario.Scenario {
	moves, _ := p.Applicable(e)
	if len(moves) == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0xe791043e))
	sc := &scenario.Scenario{Name: "explore-" + p.Name, Description: fmt.Sprintf("drawn by profile %s from seed %d", p.Name, seed),
		KeepGoing: true}
	// Rounds are drawn while their sleeps, and a lease for each wait, fit before Until (waits end
	// when a client arrives, usually sooner). A round that does not fit is drawn again (another
	// move, other timings), a few times, before the schedule ends. A run too short for any round
	// still gets its first one; the end of the run may cut it short, and whatever it broke is
	// healed before the final read.
	var first []scenario.Step
	at, misses := time.Duration(0), 0
	for round := 1; misses < 8; {
		m := moves[r.IntN(len(moves))]
		steps := append([]scenario.Step{{Sleep: dur(jitter(r, 0, e.TTL))}}, m.draw(r, e, fmt.Sprintf("R%d", round))...)
		if first == nil {
			first = steps
		}
		d := length(steps, e.TTL)
		if at+d > e.Until {
			misses++
			continue
		}
		at += d
		sc.Steps = append(sc.Steps, steps...)
		round++
	}
	if len(sc.Steps) == 0 {
		sc.Steps = first
	}
	return sc
}

// The moves.
var (
	// clockMajority: a minority is cut off from the clients (on three nodes or more), the holder
	// locks the rest and is caught in its critical section, a node of its majority jumps ahead by
	// more than a lease, the cut heals, and after a while the holder goes on (K3; K3-1 on one node).
	clockMajority = &Move{
		Name: "clock-majority", Story: "K3",
		applies: func(e Env) (bool, string) {
			switch {
			case len(e.Nodes) == 0:
				return false, "it has no lock nodes"
			case !e.Kind.ClockShim():
				return false, e.Kind.NoClock
			}
			return true, ""
		},
		draw: func(r *rand.Rand, e Env, a string) []scenario.Step {
			steps := majorityRound(r, e, a, func(node string) scenario.Step {
				return fault(nemesis.Step{Kind: nemesis.Clock, Targets: []string{node}, Delta: jitter(r, e.TTL*3/2, 3*e.TTL)}, a+"-jump")
			})
			return append(steps, scenario.Step{Sleep: dur(e.TTL / 2)}, heal(a+"-jump"))
		},
	}
	// crashMajority: as clockMajority, but a node of the holder's majority is killed and restarted
	// at once, forgetting the holder's key unless it persisted it (K4, K4-durable).
	crashMajority = &Move{
		Name: "crash-majority", Story: "K4",
		applies: func(e Env) (bool, string) {
			if len(e.Nodes) == 0 {
				return false, "it has no lock nodes"
			}
			return true, ""
		},
		draw: func(r *rand.Rand, e Env, a string) []scenario.Step {
			steps := majorityRound(r, e, a, func(node string) scenario.Step {
				return fault(nemesis.Step{Kind: nemesis.Kill, Targets: []string{node}, RestartAtOnce: true}, a+"-crash")
			})
			return append(steps, heal(a+"-crash"))
		},
	}
	// delayedWrite: the holder is caught before its write and its path to the storage is slowed
	// by more than a lease (K2) or cut in drop mode, holding what it sends (K2-C), so the write
	// lands after others have written.
	delayedWrite = &Move{
		Name: "delayed-write", Story: "K2",
		applies: func(Env) (bool, string) { return true, "" },
		draw: func(r *rand.Rand, e Env, a string) []scenario.Step {
			hook := workload.BeforeWrite
			steps := []scenario.Step{{Wait: &scenario.Trigger{Hook: hook, Holding: ptr(true), Timeout: waitFor(e)}, As: a, Hold: true}}
			storage := []string{a + ":" + cluster.StorageName}
			held := nemesis.Step{Kind: nemesis.Delay, Targets: storage, Delta: jitter(r, e.TTL, 3*e.TTL)}
			if r.IntN(2) == 0 {
				held = nemesis.Step{Kind: nemesis.Cut, Targets: storage, Mode: nemesis.Drop}
			}
			steps = append(steps, fault(held, a+"-slow"))
			steps = append(steps, scenario.Step{Release: a}, scenario.Step{Sleep: dur(jitter(r, e.TTL, 3*e.TTL))})
			return append(steps, heal(a+"-slow"))
		},
	}
	// failover: the replication link from the primary is cut for a lease (the replicas fall
	// behind), the holder is caught in its critical section, the primary is killed, and the
	// holder goes on after a while (R1). Sentinel only.
	failover = &Move{
		Name: "failover", Story: "R1",
		applies: func(e Env) (bool, string) {
			if e.Kind != cluster.KindSentinel {
				return false, "needs a Sentinel-watched primary with replicas"
			}
			return true, ""
		},
		draw: func(r *rand.Rand, e Env, a string) []scenario.Step {
			primary, replicas := e.Nodes[0], e.Nodes[1:]
			steps := []scenario.Step{fault(nemesis.Step{Kind: nemesis.Partition, Targets: []string{primary}, From: replicas, Mode: mode(r)}, a+"-cut")}
			steps = append(steps, scenario.Step{Sleep: dur(jitter(r, e.TTL/2, e.TTL+time.Second))})
			steps = append(steps, catch(r, e, a)...)
			steps = append(steps, fault(nemesis.Step{Kind: nemesis.Kill, Targets: []string{primary}}, a+"-down"))
			steps = append(steps, scenario.Step{Sleep: dur(jitter(r, 3*time.Second, 8*time.Second))}, scenario.Step{Release: a})
			return append(steps, scenario.Step{Sleep: dur(time.Second)}, heal(a+"-down"), heal(a+"-cut"))
		},
	}
	// holderCutOff: the holder is caught in its critical section and cut off from every lock
	// node for longer than its session, while it still reaches the storage; the servers end
	// its session, another client locks and writes, and the holder goes on to write (E1, Z1 by
	// the network). Only for a session lease: a lease that runs down on its own is already
	// outlived by a holder caught for long enough, and the other moves do that.
	holderCutOff = &Move{
		Name: "holder-cut-off", Story: "E1",
		applies: func(e Env) (bool, string) {
			switch {
			case len(e.Nodes) == 0:
				return false, "it has no lock nodes"
			case !e.SessionLease:
				return false, "its lease runs down on its own, so catching the holder is enough (the other moves)"
			}
			return true, ""
		},
		draw: func(r *rand.Rand, e Env, a string) []scenario.Step {
			steps := catch(r, e, a)
			steps = append(steps, fault(nemesis.Step{Kind: nemesis.Cut, Targets: []string{a + ":" + nemesis.LockNodes}, Mode: mode(r)}, a+"-cut"))
			steps = append(steps, scenario.Step{Sleep: dur(jitter(r, e.TTL*3/2, 3*e.TTL))}, scenario.Step{Release: a})
			return append(steps, scenario.Step{Sleep: dur(jitter(r, e.TTL/4, e.TTL))}, heal(a+"-cut"))
		},
	}
)

// length is about how long steps take to play: their sleeps, and a lease for each wait.
func length(steps []scenario.Step, ttl time.Duration) time.Duration {
	var d time.Duration
	for _, st := range steps {
		switch {
		case st.Sleep != nil:
			d += st.Sleep.D()
		case st.Wait != nil:
			d += ttl
		}
	}
	return d
}

// majorityRound is the round of clockMajority and crashMajority up to the holder's release: on
// three nodes or more a random minority is cut off from the clients (the holder then locks the
// rest), the holder is caught in its critical section, hit strikes one node of its majority, the
// cut heals, and after a while the holder goes on.
func majorityRound(r *rand.Rand, e Env, a string, hit func(node string) scenario.Step) []scenario.Step {
	majority, steps := e.Nodes, []scenario.Step(nil)
	if len(e.Nodes) >= 3 {
		var minority []string
		minority, majority = split(r, e.Nodes)
		steps = cut(r, minority, e.TTL, a)
	}
	steps = append(steps, catch(r, e, a)...)
	steps = append(steps, hit(pick(r, majority, 1)[0]))
	if len(e.Nodes) >= 3 {
		steps = append(steps, heal(a+"-cut"))
	}
	return append(steps, scenario.Step{Sleep: dur(jitter(r, e.TTL/4, e.TTL))}, scenario.Step{Release: a})
}

// cut cuts minority off from the clients, then waits a lease or so: keys a holder could not
// release on the cut nodes expire (otherwise nobody can lock them before the holder's lease ends
// anyway).
func cut(r *rand.Rand, minority []string, ttl time.Duration, a string) []scenario.Step {
	return []scenario.Step{
		fault(nemesis.Step{Kind: nemesis.Partition, Targets: minority, Mode: mode(r)}, a+"-cut"),
		{Sleep: dur(jitter(r, ttl/2, ttl+time.Second))},
	}
}

// catch waits for a holder in its critical section (after it read the counter) and holds it;
// mostly one still inside its lease.
func catch(r *rand.Rand, e Env, a string) []scenario.Step {
	t := &scenario.Trigger{Hook: workload.AfterRead, Holding: ptr(true), Timeout: waitFor(e)}
	if r.IntN(4) != 0 {
		t.InLease = ptr(true)
	}
	return []scenario.Step{{Wait: t, As: a, Hold: true}}
}

// waitFor is how long a round waits for a client to reach a hook before it is skipped.
func waitFor(e Env) scenario.Duration { return scenario.Duration(2*e.TTL + 2*time.Second) }

func fault(s nemesis.Step, name string) scenario.Step { return scenario.Step{Step: s, Name: name} }

func heal(name string) scenario.Step { return scenario.Step{Heal: name} }

// mode draws a partition mode: mostly reject (a reset: the cut node's keys are not set late by
// retransmitted packets), sometimes drop.
func mode(r *rand.Rand) nemesis.PartitionMode {
	if r.IntN(4) == 0 {
		return nemesis.Drop
	}
	return nemesis.Reject
}

// split draws a minority of nodes (at least one, fewer than half) and returns it and the rest.
func split(r *rand.Rand, nodes []string) (minority, majority []string) {
	k := 1 + r.IntN(max((len(nodes)-1)/2, 1))
	minority = pick(r, nodes, k)
	for _, n := range nodes {
		if !slices.Contains(minority, n) {
			majority = append(majority, n)
		}
	}
	return minority, majority
}

func pick(r *rand.Rand, nodes []string, k int) []string {
	out := make([]string, 0, k)
	for _, i := range r.Perm(len(nodes))[:min(k, len(nodes))] {
		out = append(out, nodes[i])
	}
	slices.Sort(out)
	return out
}

// jitter draws a duration in [lo, hi], to the millisecond.
func jitter(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return (lo + time.Duration(r.Int64N(int64(hi-lo)))).Round(time.Millisecond)
}

func dur(d time.Duration) *scenario.Duration { x := scenario.Duration(d); return &x }

func ptr[T any](v T) *T { return &v }
