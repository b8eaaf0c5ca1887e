package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/locktest/locktest/backend"
	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/scenario"
	"github.com/locktest/locktest/workload"
)

// ReproParams rebuilds the parameters of the run stored in dir from its recorded configuration:
// same backend, sizes, timeouts, fencing, persistence, seed and therefore the same fault
// schedule, or the same scenario file. It also returns the stored results, to compare the new
// verdict with.
func ReproParams(dir string) (Params, *report.Results, error) {
	b, err := os.ReadFile(filepath.Join(dir, report.ResultsFile))
	if err != nil {
		return Params{}, nil, fmt.Errorf("%w: %v", ErrNotARun, err)
	}
	var r report.Results
	if err := json.Unmarshal(b, &r); err != nil {
		return Params{}, nil, fmt.Errorf("%s: %w", filepath.Join(dir, report.ResultsFile), err)
	}
	cfg := r.Config
	if cfg.Backend == "" {
		// results.json of an older locktest: the history's meta record has what it had.
		m, err := firstMeta(report.HistoryPath(dir))
		if err != nil || m == nil {
			return Params{}, nil, fmt.Errorf("%s records no run configuration, and its history none either", dir)
		}
		if cfg, err = configOf(m); err != nil {
			return Params{}, nil, err
		}
	}
	cfg.Persistence = legacyPersistence(cfg)
	p := Params{Run: cfg}
	if cfg.ScenarioFile != "" {
		s, err := scenario.Load(cfg.ScenarioFile)
		if err != nil {
			return Params{}, nil, err
		}
		p.Scenario = s
	} else if sc := r.Scenario; sc != nil {
		return Params{}, nil, fmt.Errorf("the run played scenario %s but did not record its file", sc.Name)
	}
	return p, &r, p.Validate()
}

// configOf is the configuration a history's meta record gives: the recorded one (format 3), or
// what format 2 kept of it, the rest at its defaults.
func configOf(m *history.Meta) (config.Run, error) {
	var c config.Run
	if len(m.Config) > 0 {
		if err := json.Unmarshal(m.Config, &c); err != nil {
			return c, fmt.Errorf("the history's recorded configuration: %w", err)
		}
		return c, nil
	}
	c = config.Default()
	c.Backend, c.Clients, c.Nodes, c.Seed = lock.Backend(m.Backend), m.Clients, m.Nodes, m.Seed
	c.TTL, c.Think = time.Duration(m.TTLMs)*time.Millisecond, time.Duration(m.ThinkMs)*time.Millisecond
	if m.Fencing != "" {
		c.Fencing = workload.Fencing(m.Fencing)
	}
	return c, nil
}

// legacyPersistence reads a recorded persistence the way the run that recorded it meant it. Before
// etcd, ZooKeeper and PostgreSQL had settings of their own, they ignored the Redis default "none"
// and fsynced every write: a recorded none on them means always.
func legacyPersistence(c config.Run) cluster.Persistence {
	b, err := backend.Get(c.Backend)
	if err != nil || c.Persistence != cluster.NoPersistence || b.Kind().CheckPersistence(cluster.NoPersistence) == nil {
		return c.Persistence
	}
	return cluster.AppendAlways
}
