// Package shrink turns an INVALID run whose faults were drawn at random into the smallest
// scenario that still breaks the lock the same way: it re-runs the run with parts of its
// schedule removed (whole rounds or faults first, halves before single ones, as delta debugging
// does) and made certain, then with its pauses shortened, keeps every reduction that still shows the anomaly, and
// writes the result as a scenario file whose require: names that anomaly. A nightly failure
// becomes a regression test that fails every time.
package shrink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/scenario"
	"github.com/locktest/locktest/workload"
)

// Options configures Shrink.
type Options struct {
	// Confirm is how many times the shrunk scenario is played at the end to say how often it
	// reproduces (0: not checked).
	Confirm int
	// Check is how many plays in a row a reduction must show the anomaly in to be kept (0: 2). One
	// lucky play is not enough: a reduction kept by luck makes a scenario that rarely reproduces.
	Check int
	// Log receives one line per re-run.
	Log io.Writer
	// Version is recorded in the re-runs' histories.
	Version string
}

// Outcome is what Shrink found.
type Outcome struct {
	// Scenario is the shrunk scenario; File where it was written.
	Scenario *scenario.Scenario
	File     string
	// Anomaly is the evidence it requires.
	Anomaly string
	// Units and Kept count the schedule's parts (rounds or faults) before and after.
	Units, Kept int
	// Reruns is how many runs the reduction took; Confirmed of Confirm the final plays met.
	Reruns    int
	Confirmed int
	Confirm   int
}

// runTest runs one test; tests replace it.
var runTest = harness.Test

// Shrink shrinks the INVALID run stored in dir.
func Shrink(ctx context.Context, dir string, o Options) (*Outcome, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Check <= 0 {
		o.Check = 2
	}
	p, orig, err := harness.ReproParams(dir)
	if err != nil {
		return nil, err
	}
	if orig.Valid.String() != "invalid" {
		return nil, fmt.Errorf("%s is %s: only an INVALID run has an anomaly to keep", dir, orig.Valid)
	}
	anomaly := evidence(orig)
	units, err := loadUnits(dir)
	if err != nil {
		return nil, err
	}
	base := p
	base.Faults, base.Profile, base.Scenario, base.ScenarioFile = nil, "", nil, ""
	base.Out, base.Version = io.Discard, o.Version
	base.ResultsDir = filepath.Join(dir, "shrink")
	out := &Outcome{Anomaly: anomaly, Units: len(units)}
	// try plays a reduced schedule o.Check times; it is kept only if every play shows the anomaly.
	ttl := base.TTL // the lease: made longer where that makes the story certain
	try := func(what string, us [][]scenario.Step, ttl time.Duration) bool {
		sc := build(us, anomaly, true)
		for i := range o.Check {
			out.Reruns++
			hp := base
			hp.Scenario, hp.TTL, hp.TimeLimit = sc, ttl, timeLimit(sc, ttl)
			hp.Seed = base.Seed + int64(i)
			res, err := runTest(ctx, hp)
			if err != nil && ctx.Err() == nil {
				// The run did not happen (a container that would not start): no evidence either
				// way, so play it again once.
				fmt.Fprintf(o.Log, "shrink: re-run %d did not run (%v); again\n", out.Reruns, err)
				out.Reruns++
				res, err = runTest(ctx, hp)
			}
			met := err == nil && res.Results.Scenario != nil && res.Results.Scenario.Met
			verdict := "error"
			if err == nil {
				verdict = res.Results.Valid.String()
			} else if ctx.Err() == nil {
				verdict += ": " + err.Error()
			}
			fmt.Fprintf(o.Log, "shrink: re-run %d, %s (%d step(s)), play %d/%d: %s, %s\n", out.Reruns, what, len(sc.Steps), i+1, o.Check,
				verdict, map[bool]string{true: "still " + anomaly, false: "gone"}[met])
			if !met {
				return false
			}
		}
		return true
	}

	// strengthen makes the schedule certain by one change, if one keeps the anomaly: a silent
	// partition becomes one that resets (nothing sent into it lands late), the pause after a cut
	// lasts a lease (keys a holder could not release on the cut nodes have expired), a holder let
	// go after a timed pause is let go once another client wrote.
	strengthen := func() bool {
		for _, c := range certain(units, ttl) {
			if ctx.Err() == nil && try(c.what, c.units, ttl) {
				units = c.units
				return true
			}
		}
		// A longer lease gives the others time to get in while the holder still counts on its
		// own (on a loaded machine they may need more than a short lease). It makes every run of
		// the scenario slower, so only where the schedule as it stands missed a play.
		if longer := 2 * ttl; longer <= maxTTL && ctx.Err() == nil && ttlOK(base, longer) &&
			!try("as it stands", units, ttl) && try(fmt.Sprintf("a lease of %v, not %v", longer, ttl), units, longer) {
			ttl = longer
			return true
		}
		return false
	}
	// reduce removes parts of the schedule by delta debugging, if a removal keeps the anomaly:
	// chunks, halves first, down to single parts.
	reduce := func() bool {
		for n := len(units) / 2; n >= 1; n /= 2 {
			for i := 0; i+n <= len(units) && ctx.Err() == nil; i += n {
				cand := slices.Concat(units[:i], units[i+n:])
				if try(fmt.Sprintf("without parts %d-%d of %d", i+1, i+n, len(units)), cand, ttl) {
					units = cand
					return true
				}
			}
		}
		return false
	}
	// Alternate until neither changes anything, removing first: every change is tried with two
	// plays of the whole schedule, and an explored minute has a dozen rounds, each with places to
	// make certain (that order took 2 min a try on Redlock before the first removal was tried).
	// A certain story then shrinks by fewer lucky plays, and a smaller one may have a place left
	// to make certain.
	for progress := true; progress && ctx.Err() == nil; {
		progress = reduce() || strengthen()
	}
	// Then the waiting: halve each sleep while that keeps the anomaly.
	for ui := range units {
		for si, st := range units[ui] {
			if si > 0 && units[ui][si-1].Kind == nemesis.Partition {
				continue // the settling pause after a cut: shorter only leaves it to luck
			}
			for st.Sleep != nil && st.Sleep.D() >= 200*time.Millisecond && ctx.Err() == nil {
				cand := clone(units)
				half := (st.Sleep.D() / 2).Round(time.Millisecond)
				d := scenario.Duration(half)
				cand[ui][si].Sleep = &d
				if !try(fmt.Sprintf("sleep %v instead of %v", half, st.Sleep.D()), cand, ttl) {
					break
				}
				units, st = cand, cand[ui][si]
			}
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	out.Kept = len(units)
	out.Scenario = build(units, anomaly, false)
	out.Scenario.Name = "shrunk-" + orig.RunID
	out.Scenario.Description = fmt.Sprintf("Shrunk by `locktest shrink` from run %s (%s, seed %d): the smallest schedule found that still shows %s.",
		orig.RunID, orig.Backend, orig.Seed, anomaly)
	c := p.Run
	out.Scenario.Backend, out.Scenario.Clients, out.Scenario.Nodes = string(c.Backend), c.Clients, c.Nodes
	out.Scenario.TTL, out.Scenario.TimeLimit = scenario.Duration(ttl), scenario.Duration(timeLimit(out.Scenario, ttl))
	out.Scenario.Fencing, out.Scenario.Persistence = string(c.Fencing), string(c.Persistence)
	text, err := yaml.Marshal(out.Scenario)
	if err != nil {
		return nil, err
	}
	out.File = filepath.Join(dir, "shrunk.yaml")
	if err := os.WriteFile(out.File, text, 0o644); err != nil {
		return nil, err
	}
	// The file as written is what is confirmed: it must parse and play as it stands.
	final, err := scenario.Load(out.File)
	if err != nil {
		return nil, fmt.Errorf("the shrunk scenario does not load: %w", err)
	}
	out.Confirm = o.Confirm
	for i := 0; i < o.Confirm && ctx.Err() == nil; i++ {
		hp := base
		hp.Scenario, hp.ScenarioFile, hp.TimeLimit = final, out.File, final.TimeLimit.D()
		hp.Seed = base.Seed + int64(i) + 1
		res, err := runTest(ctx, hp)
		met := err == nil && res.Results.Scenario != nil && res.Results.Scenario.Met
		if met {
			out.Confirmed++
		}
		fmt.Fprintf(o.Log, "shrink: confirm %d/%d: %v\n", i+1, o.Confirm, map[bool]string{true: "reproduced", false: "not reproduced"}[met])
	}
	return out, ctx.Err()
}

// maxTTL bounds how long shrinking makes the lease: longer only makes the scenario slow.
const maxTTL = 10 * time.Second

// ttlOK says whether the run's backend accepts lease time ttl.
func ttlOK(p harness.Params, ttl time.Duration) bool {
	p.TTL = ttl
	return p.Validate() == nil
}

// candidate is a changed schedule to try, and what changed.
type candidate struct {
	what  string
	units [][]scenario.Step
}

// certain lists the changes that make a schedule's story less a matter of luck, one per place.
func certain(units [][]scenario.Step, ttl time.Duration) []candidate {
	var out []candidate
	settle := (ttl + time.Second).Round(time.Millisecond)
	for ui, u := range units {
		for si, st := range u {
			switch {
			case st.Kind == nemesis.Partition && st.Mode != nemesis.Reject:
				c := clone(units)
				c[ui][si].Mode = nemesis.Reject
				out = append(out, candidate{"the partition rejects instead of dropping", c})
			case st.Kind == nemesis.Partition && si+1 < len(u) && u[si+1].Sleep != nil && u[si+1].Sleep.D() < settle:
				c := clone(units)
				d := scenario.Duration(settle)
				c[ui][si+1].Sleep = &d
				out = append(out, candidate{fmt.Sprintf("a lease and a second (%v) after the cut, not %v", settle, u[si+1].Sleep.D()), c})
			case st.Release != "" && si > 0 && u[si-1].Sleep != nil:
				c := clone(units)
				c[ui][si-1] = scenario.Step{Wait: &scenario.Trigger{Hook: workload.AfterWrite, Process: "!" + st.Release,
					Timeout: scenario.Duration(2*ttl + 2*time.Second)}}
				out = append(out, candidate{fmt.Sprintf("release %s once another client wrote, not after %v", st.Release, u[si-1].Sleep.D()), c})
			}
		}
	}
	return out
}

// timeLimit is how long a run of sc needs: its steps (sleeps, a lease for each wait, faults that
// heal themselves), then a lease and a few seconds for the cluster to recover and the anomaly to
// show.
func timeLimit(sc *scenario.Scenario, ttl time.Duration) time.Duration {
	var t, end time.Duration
	for _, st := range sc.Steps {
		switch {
		case st.At != nil:
			t = max(t, st.At.D())
		case st.Sleep != nil:
			t += st.Sleep.D()
		case st.Wait != nil:
			t += ttl
		case st.Kind != "":
			end = max(end, t+st.Duration)
		}
	}
	return (max(t, end) + 2*ttl + 5*time.Second).Round(time.Second)
}

// evidence is the anomaly a shrunk scenario must keep: the lock service handing the lock out
// twice if the run showed it, else the first kind of anomaly it showed.
func evidence(r *report.Results) string {
	if r.Anomalies.OverlapsWithinValidity > 0 {
		return "overlaps_within_validity"
	}
	for _, name := range []string{"lost_updates", "stale_writes", "duplicate_reads", "overlaps", "nonlinearizable", "log_mismatch"} {
		if n, _ := r.Anomalies.Count(name); n > 0 {
			return name
		}
	}
	return "lost_updates"
}

// build makes the scenario of units: INVALID with the anomaly required. While shrinking it keeps
// going past a step that cannot play (a reduced schedule may leave a release without its catch);
// the final file does not, so a step that stops playing fails loudly.
func build(units [][]scenario.Step, anomaly string, keepGoing bool) *scenario.Scenario {
	sc := &scenario.Scenario{Name: "shrinking", Expect: "invalid", Require: []string{anomaly}, KeepGoing: keepGoing}
	for _, u := range units {
		sc.Steps = append(sc.Steps, u...)
	}
	if len(sc.Steps) == 0 {
		sc.Steps = []scenario.Step{{Sleep: new(scenario.Duration)}}
	}
	return sc
}

func clone(units [][]scenario.Step) [][]scenario.Step {
	out := make([][]scenario.Step, len(units))
	for i, u := range units {
		out[i] = slices.Clone(u)
	}
	return out
}

// loadUnits reads the run's schedule as the parts shrinking removes: the rounds of a schedule an
// exploration profile drew (explored.yaml), or the faults of a random schedule (schedule.json).
func loadUnits(dir string) ([][]scenario.Step, error) {
	if sc, err := scenario.Load(filepath.Join(dir, report.ExploredFile)); err == nil {
		return rounds(sc.Steps), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, report.ScheduleFile))
	if err != nil {
		return nil, fmt.Errorf("%s has no drawn schedule (%s or %s) to shrink: was it a random-schedule run?", dir, report.ExploredFile, report.ScheduleFile)
	}
	var steps []nemesis.Step
	if err := json.Unmarshal(b, &steps); err != nil {
		return nil, fmt.Errorf("%s: %w", report.ScheduleFile, err)
	}
	units := make([][]scenario.Step, len(steps))
	for i, s := range steps {
		at := scenario.Duration(s.At)
		units[i] = []scenario.Step{{At: &at}, {Step: s}}
	}
	return units, nil
}

// roundRef finds the round a drawn step belongs to ("R3" in "R3", "R3-cut", "R3:storage").
var roundRef = regexp.MustCompile(`^(R\d+)(\b|-|:)`)

// rounds groups drawn steps by round: a step joins the round it names (as, release, heal, a
// fault's name or targets); a sleep joins the round of the next step that names one.
func rounds(steps []scenario.Step) [][]scenario.Step {
	refOf := func(st scenario.Step) string {
		for _, s := range slices.Concat([]string{st.As, st.Release, st.Heal, st.Name}, st.Targets) {
			if m := roundRef.FindStringSubmatch(s); m != nil {
				return m[1]
			}
		}
		return ""
	}
	var out [][]scenario.Step
	var pending []scenario.Step
	cur := ""
	for _, st := range steps {
		ref := refOf(st)
		switch {
		case ref == "":
			pending = append(pending, st)
		case ref != cur || len(out) == 0:
			out = append(out, append(pending, st))
			pending, cur = nil, ref
		default:
			out[len(out)-1] = append(out[len(out)-1], slices.Concat(pending, []scenario.Step{st})...)
			pending = nil
		}
	}
	if len(pending) > 0 && len(out) > 0 {
		out[len(out)-1] = append(out[len(out)-1], pending...)
	}
	return out
}
