// Package config holds what a run is: one value with every parameter that decides what a run
// does, and the one place for their defaults. The harness records it as-is in the history's meta
// record and in results.json, so a stored run can be repeated (locktest repro) or re-checked from
// either file alone. What only concerns how a run is shown or where it is written (output,
// logs, the results directory) is not part of it.
package config

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/workload"
)

// Run is a run's configuration. Durations are written as "5s" in JSON.
type Run struct {
	Backend lock.Backend
	// Nodes is the number of lock nodes asked for; 0 is the backend's usual size.
	Nodes   int
	Clients int
	// TTL is the lock's lease time; TimeLimit how long the clients run.
	TTL       time.Duration
	TimeLimit time.Duration
	// Seed draws the random fault schedule (and anything else random in the run).
	Seed int64
	// AcquireTimeout bounds one lock acquisition loop; StorageTimeout one storage command.
	AcquireTimeout time.Duration
	StorageTimeout time.Duration
	// Think is how long each client rests between iterations (0: none).
	Think time.Duration
	// Fencing is whether the storage checks the lease's fencing token.
	Fencing workload.Fencing
	// Client is how each client uses the lock beyond the plain loop: a lease check before the
	// write, work inside the critical section, lease extension.
	Client workload.Client
	// ClientCmd, if set, is the program each client process runs instead of locktest's own worker
	// (its arguments split at spaces): a client in any language speaking the worker protocol
	// (docs/client-protocol.md).
	ClientCmd string
	// Persistence is the lock nodes' durability ("" is the backend's default; see
	// cluster.Persistence). A run records the setting it used, never "".
	Persistence cluster.Persistence
	// Faults are the fault kinds of the random schedule (none: no faults); FaultInterval is how
	// long each lasts and the quiet time between two.
	Faults        []nemesis.Kind
	FaultInterval time.Duration
	// Profile, if set, names the exploration profile (package explore) whose drawn rounds of
	// composed, holder-aware faults the run plays instead of a random schedule of single faults.
	Profile string
	// Cluster is where the nodes come from: Containers or Compose.
	Cluster string
	// ScenarioFile, if set, is the scenario played instead of a random schedule.
	ScenarioFile string
}

// Cluster providers.
const (
	// Containers: nodes started for the run and removed after it.
	Containers = "containers"
	// Compose: the standing docker-compose.yml cluster, used and healed, never removed.
	Compose = "compose"
)

// Default is the configuration of a run nobody said anything about: the CLI's flag defaults,
// compare's base, and what a stored configuration that lacks a parameter gets.
func Default() Run {
	return Run{
		Backend:        lock.Redlock,
		Clients:        5,
		TTL:            5 * time.Second,
		TimeLimit:      30 * time.Second,
		AcquireTimeout: 10 * time.Second,
		StorageTimeout: time.Second,
		Fencing:        workload.NoFencing,
		Persistence:    "", // the backend's own default (cluster.Kind.Durabilities)
		FaultInterval:  5 * time.Second,
		Cluster:        Containers,
	}
}

// MatrixDefault is the base of every cell of `locktest compare`: shorter runs and leases than a
// single test's, so the whole default matrix (one 4 s fault per 12 s run, two cores) takes about a
// quarter of an hour; --runs and --time-limit buy more evidence per cell.
func MatrixDefault() Run {
	r := Default()
	r.Clients, r.TTL, r.TimeLimit, r.FaultInterval = 3, 2*time.Second, 12*time.Second, 4*time.Second
	return r
}

// wire is Run as JSON has it: durations as text a person reads.
type wire struct {
	Backend        lock.Backend        `json:"backend"`
	Nodes          int                 `json:"nodes"`
	Clients        int                 `json:"clients"`
	TTL            string              `json:"ttl"`
	TimeLimit      string              `json:"time_limit"`
	Seed           int64               `json:"seed"`
	AcquireTimeout string              `json:"acquire_timeout"`
	StorageTimeout string              `json:"storage_timeout"`
	Think          string              `json:"think,omitempty"`
	Fencing        workload.Fencing    `json:"fencing"`
	Guard          workload.Guard      `json:"guard,omitempty"`
	GuardMargin    string              `json:"guard_margin,omitempty"`
	Work           workload.Work       `json:"work,omitzero"`
	Extend         bool                `json:"extend,omitempty"`
	ClientCmd      string              `json:"client_cmd,omitempty"`
	Persistence    cluster.Persistence `json:"persistence"`
	Faults         []nemesis.Kind      `json:"faults,omitempty"`
	FaultInterval  string              `json:"fault_interval,omitempty"`
	Profile        string              `json:"profile,omitempty"`
	Cluster        string              `json:"cluster"`
	ScenarioFile   string              `json:"scenario_file,omitempty"`
}

// MarshalJSON writes durations as "5s".
func (r Run) MarshalJSON() ([]byte, error) {
	str := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	return json.Marshal(wire{
		Backend: r.Backend, Nodes: r.Nodes, Clients: r.Clients, TTL: r.TTL.String(), TimeLimit: r.TimeLimit.String(),
		Seed: r.Seed, AcquireTimeout: r.AcquireTimeout.String(), StorageTimeout: r.StorageTimeout.String(),
		Think: str(r.Think), Fencing: r.Fencing, Guard: r.Client.Guard, GuardMargin: str(r.Client.GuardMargin),
		Work: r.Client.Work, Extend: r.Client.Extend, ClientCmd: r.ClientCmd, Persistence: r.Persistence, Faults: r.Faults,
		FaultInterval: str(r.FaultInterval), Profile: r.Profile, Cluster: r.Cluster, ScenarioFile: r.ScenarioFile,
	})
}

// UnmarshalJSON reads what MarshalJSON writes; a parameter left out gets its default.
func (r *Run) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d := Default()
	out := Run{Backend: w.Backend, Nodes: w.Nodes, Clients: w.Clients, Seed: w.Seed, Fencing: w.Fencing,
		Persistence: w.Persistence, Faults: w.Faults, Profile: w.Profile, Cluster: w.Cluster, ScenarioFile: w.ScenarioFile,
		Client: workload.Client{Guard: w.Guard, Work: w.Work, Extend: w.Extend}, ClientCmd: w.ClientCmd}
	for _, f := range []struct {
		s   string
		dst *time.Duration
		def time.Duration
	}{
		{w.TTL, &out.TTL, d.TTL}, {w.TimeLimit, &out.TimeLimit, d.TimeLimit},
		{w.AcquireTimeout, &out.AcquireTimeout, d.AcquireTimeout}, {w.StorageTimeout, &out.StorageTimeout, d.StorageTimeout},
		{w.Think, &out.Think, 0}, {w.FaultInterval, &out.FaultInterval, d.FaultInterval},
		{w.GuardMargin, &out.Client.GuardMargin, 0},
	} {
		*f.dst = f.def
		if f.s != "" {
			v, err := time.ParseDuration(f.s)
			if err != nil {
				return fmt.Errorf("run configuration: %q is not a duration", f.s)
			}
			*f.dst = v
		}
	}
	if out.Backend == "" {
		out.Backend = d.Backend
	}
	if out.Clients == 0 {
		out.Clients = d.Clients
	}
	if out.Fencing == "" {
		out.Fencing = d.Fencing
	}
	if out.Cluster == "" {
		out.Cluster = d.Cluster
	}
	*r = out
	return nil
}
