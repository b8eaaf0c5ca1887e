package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/scenario"
	"github.com/locktest/locktest/workload"
)

// ReproParams rebuilds the parameters of the run stored in dir: same backend, sizes, timeouts,
// fencing, persistence, seed and therefore the same fault schedule, or the same scenario file.
// It also returns the stored results, to compare the new verdict with.
func ReproParams(dir string) (Params, *report.Results, error) {
	b, err := os.ReadFile(filepath.Join(dir, report.ResultsFile))
	if err != nil {
		return Params{}, nil, fmt.Errorf("%w: %v", ErrNotARun, err)
	}
	var r report.Results
	if err := json.Unmarshal(b, &r); err != nil {
		return Params{}, nil, fmt.Errorf("%s: %w", filepath.Join(dir, report.ResultsFile), err)
	}
	pr := r.Params
	p := Params{Backend: lock.Backend(r.Backend), Seed: r.Seed, Clients: pr.Clients, Nodes: max(pr.Nodes, 1),
		Fencing: workload.Fencing(pr.Fencing), Persistence: cluster.Persistence(pr.Persistence), Cluster: pr.Cluster}
	for _, d := range []struct {
		s   string
		dst *time.Duration
		def time.Duration
	}{
		{pr.TTL, &p.TTL, 0}, {pr.TimeLimit, &p.TimeLimit, 0}, {pr.FaultInterval, &p.FaultInterval, 5 * time.Second},
		{pr.AcquireTimeout, &p.AcquireTimeout, 10 * time.Second}, {pr.StorageTimeout, &p.StorageTimeout, time.Second},
		{pr.Think, &p.Think, 0},
	} {
		*d.dst = d.def
		if d.s != "" {
			if *d.dst, err = time.ParseDuration(d.s); err != nil {
				return Params{}, nil, fmt.Errorf("stored parameter %q: %w", d.s, err)
			}
		}
	}
	if p.Faults, err = nemesis.ParseKinds(pr.Faults); err != nil {
		return Params{}, nil, err
	}
	if sc := r.Scenario; sc != nil {
		if sc.File == "" {
			return Params{}, nil, fmt.Errorf("the run played scenario %s but did not record its file", sc.Name)
		}
		s, err := scenario.Load(sc.File)
		if err != nil {
			return Params{}, nil, err
		}
		p.Scenario, p.ScenarioFile = s, sc.File
	}
	return p, &r, p.Validate()
}
