// Package scenario reads scripted fault scenarios and plays them against a running workload.
//
// A scenario is a list of steps run in order. A step can wait (for a time, or for a client to
// reach a hook point, optionally while holding the lock), hold the client it waited for at that
// hook, release a held client, inject a fault (healed after a duration or by a later step), or
// heal one. Waiting at hooks makes an interleaving deterministic instead of lucky: "pause the
// holder right after it read the counter" happens every time.
package scenario

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/workload"
)

// Scenario is a parsed scenario file.
type Scenario struct {
	Name        string `yaml:"name,omitempty"`
	Description string `yaml:"description,omitempty"`
	// Run parameters; zero values leave the command line's (or the defaults) in force.
	Backend   string   `yaml:"backend,omitempty"`
	Clients   int      `yaml:"clients,omitempty"`
	Nodes     int      `yaml:"nodes,omitempty"`
	TTL       Duration `yaml:"ttl,omitempty"`
	TimeLimit Duration `yaml:"time_limit,omitempty"`
	// Persistence is the lock nodes' durability: none, everysec or always.
	Persistence string `yaml:"persistence,omitempty"`
	// Fencing is the storage's fencing mode: none, reads-writes, writes-only or check-and-set.
	Fencing string `yaml:"fencing,omitempty"`
	// How each client uses the lock (workload.Client): guard (none or validity) with
	// guard_margin, work ("50ms" or "20ms-200ms") and extend.
	Guard       string   `yaml:"guard,omitempty"`
	GuardMargin Duration `yaml:"guard_margin,omitempty"`
	Work        string   `yaml:"work,omitempty"`
	Extend      bool     `yaml:"extend,omitempty"`
	// ClientCmd is the program each client process runs instead of the built-in client, as
	// --client-cmd takes it ("/usr/bin/python3 clients/python/locktest_client.py"): a scenario
	// written for one's own client carries it. Relative paths are taken from the working
	// directory, as on the command line.
	ClientCmd string `yaml:"client_cmd,omitempty"`
	// Expect is the verdict the scenario must reach: "valid" or "invalid".
	Expect string `yaml:"expect,omitempty"`
	// Require names anomaly counters (results.json names, e.g. overlaps_within_validity) that
	// must be non-zero: the evidence that the story the scenario tells really happened, so an
	// INVALID verdict reached some other way does not count.
	Require []string `yaml:"require,omitempty"`
	// RequireStall, if set, requires a stretch at least this long with no acknowledged increment:
	// the evidence for a story in which the lock stays safe by stopping everyone (a paused holder
	// of a lock without a lease).
	RequireStall Duration `yaml:"require_stall,omitempty"`
	// KeepGoing plays on past a step that cannot play (a wait nobody matched in time, the release
	// of a client it did not catch, the heal of a fault not injected): it is logged and skipped.
	// For drawn schedules (package explore), where a round may find nobody to catch.
	KeepGoing bool   `yaml:"keep_going,omitempty"`
	Steps     []Step `yaml:"steps"`
}

// Step is one instruction. Exactly one action (Wait, Sleep, At, Hold/Release, Fault, Heal) per
// step, except that Wait may be combined with As and Hold.
type Step struct {
	// At waits until this long after the workload started.
	At *Duration `yaml:"at,omitempty"`
	// Sleep waits this long.
	Sleep *Duration `yaml:"sleep,omitempty"`
	// Wait waits until a client reaches a hook point matching the condition.
	Wait *Trigger `yaml:"wait,omitempty"`
	// As names the client a Wait matched, for later steps ("A"); targets may then say "A".
	As string `yaml:"as,omitempty"`
	// Hold keeps the matched client waiting at the hook until a Release step.
	Hold bool `yaml:"hold,omitempty"`
	// Release lets a held client (by name) continue.
	Release string `yaml:"release,omitempty"`
	// HoldAt, with Release, holds the released client again at the next hook point of that name
	// ("let A write, then keep it there"), caught without a race however fast the client is.
	HoldAt workload.Hook `yaml:"hold_at,omitempty"`

	// The fault of a fault step, with its targets and options, in the nemesis's own terms (see
	// nemesis.Step: fault, targets, for, delta, restart_at_once, mode, from, strobe, and
	// nemesis.FaultKinds for what each kind takes). Targets may name clients bound by as: ("A",
	// "A:storage"). A fault with for: heals itself that long after injection, without blocking
	// later steps.
	nemesis.Step `yaml:",inline"`
	// Name names the fault for a later Heal step.
	Name string `yaml:"name,omitempty"`

	// Heal heals the fault named so ("all": every active fault).
	Heal string `yaml:"heal,omitempty"`
}

// Trigger says which hook arrival a Wait step waits for.
type Trigger struct {
	Hook workload.Hook `yaml:"hook,omitempty"`
	// Holding, if set, requires the client to hold (true) or not hold (false) the lock.
	Holding *bool `yaml:"holding,omitempty"`
	// InLease, if set, requires the client to be inside (true) or past (false) its lease's
	// validity: a holder starved of CPU past its lease before its read is not the holder a story
	// about a pause *inside* the lease means, and others may already have written past it.
	InLease *bool `yaml:"in_lease,omitempty"`
	// Process restricts the client: a name bound by As ("A"), its negation ("!A": any other
	// client), or "pN".
	Process string `yaml:"process,omitempty"`
	// Timeout fails the scenario if nothing matches in time (default 30s).
	Timeout Duration `yaml:"timeout,omitempty"`
}

// Duration is a time.Duration written as "2s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses "2s", "+4s", "-1s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(strings.TrimPrefix(n.Value, "+"))
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like 2s or 500ms)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes "2s".
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Load reads and validates a scenario file.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return s, nil
}

// Parse parses and validates a scenario.
func Parse(b []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a misspelt key is an error, not a silently ignored step
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	return &s, s.validate()
}

func (s *Scenario) validate() error {
	switch s.Expect {
	case "", "valid", "invalid":
	default:
		return fmt.Errorf("expect must be valid or invalid, got %q", s.Expect)
	}
	if _, err := cluster.ParsePersistence(s.Persistence); err != nil {
		return err
	}
	if _, err := workload.ParseFencing(s.Fencing); err != nil {
		return err
	}
	if _, err := workload.ParseGuard(s.Guard); err != nil {
		return err
	}
	if _, err := workload.ParseWork(s.Work); err != nil {
		return err
	}
	if s.ClientCmd != "" && len(strings.Fields(s.ClientCmd)) == 0 {
		return fmt.Errorf("client_cmd names no program")
	}
	if s.RequireStall < 0 {
		return fmt.Errorf("require_stall must not be negative")
	}
	for _, r := range s.Require {
		if !slices.Contains(checker.EvidenceNames, r) {
			return fmt.Errorf("require: unknown evidence %q (choose from %s)", r, strings.Join(checker.EvidenceNames, ", "))
		}
	}
	if len(s.Steps) == 0 {
		return fmt.Errorf("no steps")
	}
	names := map[string]bool{}
	for i, st := range s.Steps {
		n := 0
		for _, set := range []bool{st.At != nil, st.Sleep != nil, st.Wait != nil, st.Release != "", st.Kind != "", st.Heal != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("step %d: needs exactly one of at, sleep, wait, release, fault, heal (has %d)", i+1, n)
		}
		if (st.As != "" || st.Hold) && st.Wait == nil {
			return fmt.Errorf("step %d: as and hold go with wait", i+1)
		}
		if st.Wait != nil {
			if !validHook(st.Wait.Hook) {
				return fmt.Errorf("step %d: unknown hook %q", i+1, st.Wait.Hook)
			}
			if p := strings.TrimPrefix(st.Wait.Process, "!"); p != "" && !names[p] && !isProcess(p) {
				return fmt.Errorf("step %d: process %q is not a name bound by an earlier as", i+1, st.Wait.Process)
			}
		}
		if st.As != "" {
			if isProcess(st.As) || st.As == nemesis.HolderClient || strings.ContainsAny(st.As, ":! ") {
				return fmt.Errorf("step %d: as %q: a client's name must not look like pN, holder, or contain ':', '!' or spaces", i+1, st.As)
			}
			names[st.As] = true
		}
		if st.HoldAt != "" && (st.Release == "" || !validHook(st.HoldAt)) {
			return fmt.Errorf("step %d: hold_at goes with release and names a hook (got %q)", i+1, st.HoldAt)
		}
		if st.Release != "" && !names[st.Release] {
			return fmt.Errorf("step %d: release %q: no earlier step holds a client by that name", i+1, st.Release)
		}
		if st.Kind != "" {
			if err := checkFault(st, names); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		}
	}
	return nil
}

// checkFault checks a fault step: its kind, targets and options (as the kind says), and that the
// clients it names were bound by an earlier as:.
func checkFault(st Step, names map[string]bool) error {
	fk, err := nemesis.Of(st.Kind)
	if err != nil {
		return err
	}
	if st.Duration < 0 {
		return fmt.Errorf("for must not be negative")
	}
	if err := fk.Check(st.Step); err != nil {
		return err
	}
	ts, _ := nemesis.ParseTargets(fk.Aim, st.Targets) // checked by Check
	for _, t := range ts {
		if t.Client != "" && t.Client != nemesis.HolderClient && !isProcess(t.Client) && !names[t.Client] {
			return fmt.Errorf("target %q: client %q is not a name bound by an earlier as", t, t.Client)
		}
	}
	return nil
}

func isProcess(s string) bool { _, ok := nemesis.ProcessName(s); return ok }

func validHook(h workload.Hook) bool { return slices.Contains(workload.Hooks, h) }

// Judge compares a run's outcome with the scenario's expectation. It returns whether it was met
// and, if not, which required evidence (anomalies, or "fenced") did not occur.
func (s *Scenario) Judge(res *checker.Result) (met bool, missing []string) {
	for _, r := range s.Require {
		if n, _ := res.Evidence(r); n == 0 {
			missing = append(missing, r)
		}
	}
	if want := s.RequireStall.D(); want > 0 && res.Liveness.LongestStallS < want.Seconds() {
		missing = append(missing, fmt.Sprintf("stall of %v (the longest was %.1fs)", want, res.Liveness.LongestStallS))
	}
	return (s.Expect == "" || s.Expect == res.Valid.String()) && len(missing) == 0, missing
}

// Kinds lists the fault kinds the scenario's steps inject.
func (s *Scenario) Kinds() []nemesis.Kind {
	var out []nemesis.Kind
	for _, st := range s.Steps {
		if st.Kind != "" && !slices.Contains(out, st.Kind) {
			out = append(out, st.Kind)
		}
	}
	return out
}
