package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"
)

// MergeSpec is how shards' results are joined into one matrix.
type MergeSpec struct {
	// Dirs are the shards' matrix directories (each with its matrix.json), in any order.
	Dirs []string
	// Expect are the cells' expected verdicts; nil checks none. A scenario carries its own.
	Expect Expectations
	// ResultsDir is the base directory: the merged matrix goes to ResultsDir/compare/<timestamp>,
	// with a copy of every shard's runs, so that its links work wherever it is moved.
	ResultsDir string
	// JUnit, if set, is the path of a JUnit report of the merged matrix.
	JUnit string
	// Started names the merged directory; zero is now.
	Started time.Time
}

// MergeError is a set of shard directories that do not make one comparison: not shards, shards of
// different plans, a shard missing or given twice. It says which.
type MergeError struct{ Problems []string }

func (e *MergeError) Error() string { return "cannot merge: " + strings.Join(e.Problems, "; ") }

// shardResult is one shard's matrix, read back.
type shardResult struct {
	dir string
	m   *Matrix
}

// Merge joins the results of the shards of one comparison (compare --shard K/N, for every K) into
// the matrix the whole comparison would have written: every cell of the plan once, in plan order,
// the scenarios in their order, checked against s.Expect; written with the shards' runs into a new
// directory under s.ResultsDir. A *MergeError says why the directories do not make one comparison.
// A shard that was cut short leaves its cells out; the Outcome says so (incomplete, interrupted).
func Merge(s MergeSpec) (*Matrix, Outcome, error) {
	shards, err := readShards(s.Dirs)
	if err != nil {
		return nil, Outcome{}, err
	}
	key := shards[0].m.Shard.Plan
	m, copies, err := join(key, shards)
	if err != nil {
		return nil, Outcome{}, err
	}
	m.Mismatches = mismatches(s.Expect, m.Cells, m.Scenarios)
	dir, _, err := newMatrixDir(s.ResultsDir, s.Started)
	if err != nil {
		return m, Outcome{}, err
	}
	o := decide(Plan{Cells: key.Cells}, m, dir)
	if err := copyRuns(dir, copies); err != nil {
		return m, o, err
	}
	return m, o, m.publish(dir, s.ResultsDir, s.JUnit, s.Expect, slog.Default())
}

// readShards reads every directory's matrix.json and checks that they are the N shards of one
// plan, each once.
func readShards(dirs []string) ([]shardResult, error) {
	if len(dirs) == 0 {
		return nil, &MergeError{[]string{"no shard directories given"}}
	}
	var problems []string
	var shards []shardResult
	for _, d := range dirs {
		m, err := readMatrix(d)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case m.Shard == nil:
			problems = append(problems, d+" is a whole comparison, not a shard (it ran without --shard)")
		default:
			shards = append(shards, shardResult{d, m})
		}
	}
	if len(problems) > 0 {
		return nil, &MergeError{problems}
	}
	first := shards[0]
	byK := map[int]string{}
	for _, sh := range shards {
		info := sh.m.Shard
		if info.N != first.m.Shard.N {
			problems = append(problems, fmt.Sprintf("%s is shard %s but %s is shard %s: a comparison is split one way", sh.dir, info.Shard, first.dir, first.m.Shard.Shard))
			continue
		}
		if d := planDiff(first.m.Shard.Plan, info.Plan); d != "" {
			problems = append(problems, fmt.Sprintf("%s (shard %s) ran another plan than %s (shard %s): %s", sh.dir, info.Shard, first.dir, first.m.Shard.Shard, d))
			continue
		}
		if other, dup := byK[info.K]; dup {
			problems = append(problems, fmt.Sprintf("shard %s given twice: %s and %s", info.Shard, other, sh.dir))
			continue
		}
		byK[info.K] = sh.dir
	}
	if len(problems) == 0 {
		for k := 1; k <= first.m.Shard.N; k++ {
			if _, ok := byK[k]; !ok {
				problems = append(problems, fmt.Sprintf("shard %d/%d missing", k, first.m.Shard.N))
			}
		}
	}
	if len(problems) > 0 {
		return nil, &MergeError{problems}
	}
	slices.SortFunc(shards, func(a, b shardResult) int { return a.m.Shard.K - b.m.Shard.K })
	return shards, nil
}

// readMatrix reads dir/matrix.json, saying what dir is not when it cannot.
func readMatrix(dir string) (*Matrix, error) {
	b, err := os.ReadFile(filepath.Join(dir, "matrix.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no matrix.json: give the directory a compare --shard run wrote (results/compare/<time>)", dir)
	}
	if err != nil {
		return nil, err
	}
	var m Matrix
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s/matrix.json is not a matrix: %v", dir, err)
	}
	return &m, nil
}

// planDiff names the first thing two shards' plans differ in, or "" when they are the same.
func planDiff(a, b PlanKey) string {
	switch {
	case a.Version != b.Version:
		return fmt.Sprintf("locktest version %s vs %s", a.Version, b.Version)
	case a.Config.Seed != b.Config.Seed:
		return fmt.Sprintf("seed %d vs %d", a.Config.Seed, b.Config.Seed)
	case !reflect.DeepEqual(a.Config, b.Config):
		return fmt.Sprintf("run settings %s vs %s", jsonText(a.Config), jsonText(b.Config))
	case a.Runs != b.Runs:
		return fmt.Sprintf("%d vs %d run(s) per cell", a.Runs, b.Runs)
	case a.ReuseClusters != b.ReuseClusters:
		return "one cluster per backend vs --fresh-clusters"
	case !slices.Equal(a.Faults, b.Faults):
		return fmt.Sprintf("faults %s vs %s", strings.Join(a.Faults, ","), strings.Join(b.Faults, ","))
	case !slices.Equal(a.Cells, b.Cells) || !reflect.DeepEqual(a.Skipped, b.Skipped):
		return fmt.Sprintf("%d vs %d cells (other backends or fencing modes)", len(a.Cells), len(b.Cells))
	case !slices.Equal(a.Scenarios, b.Scenarios):
		return fmt.Sprintf("scenarios %s vs %s", strings.Join(a.Scenarios, ","), strings.Join(b.Scenarios, ","))
	}
	return ""
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// runCopy is a shard's run directory to copy into the merged directory.
type runCopy struct{ from, to string }

// join makes the whole plan's matrix from its shards: each cell of the plan from the shard that
// ran it, in plan order, and the scenarios in the plan's order. A cell a shard ran that is not its
// share, or that two shards ran, is a *MergeError; one no shard ran (a shard cut short) is left
// out, as the whole comparison would have left it. The runs keep their directories relative to
// the matrix, as in the whole comparison's (another shard's run at the same place goes under
// shard-K/); copies says where each comes from.
func join(key PlanKey, shards []shardResult) (m *Matrix, copies []runCopy, err error) {
	m = &Matrix{Faults: key.Faults, Skipped: key.Skipped, Params: shards[0].m.Params}
	taken := map[string]bool{}
	place := func(sh shardResult, rel string) string {
		if rel == "" {
			return ""
		}
		to := rel
		if taken[to] {
			to = filepath.Join(fmt.Sprintf("shard-%d", sh.m.Shard.K), rel)
		}
		taken[to] = true
		copies = append(copies, runCopy{from: filepath.Join(sh.dir, rel), to: to})
		return to
	}
	cells := map[Cell]CellResult{}
	// Each scenario of the plan, by name, as the shards played it (a name planned twice is played twice).
	played := map[string][]ScenarioResult{}
	var problems []string
	var started time.Time
	var longest time.Duration
	for _, sh := range shards {
		info := sh.m.Shard
		m.MergedFrom = append(m.MergedFrom, sh.dir)
		m.Interrupted = m.Interrupted || sh.m.Interrupted
		if t, err := time.Parse(time.RFC3339, sh.m.Started); err == nil && (started.IsZero() || t.Before(started)) {
			started = t
		}
		if d, err := time.ParseDuration(sh.m.Duration); err == nil {
			longest = max(longest, d)
		}
		for _, c := range sh.m.Cells {
			if !slices.Contains(info.Cells, c.Cell) {
				problems = append(problems, fmt.Sprintf("%s (shard %s) holds cell %s, which is not its share", sh.dir, info.Shard, c.Cell))
				continue
			}
			if _, dup := cells[c.Cell]; dup {
				problems = append(problems, fmt.Sprintf("cell %s is in two shards", c.Cell))
				continue
			}
			c.Runs = slices.Clone(c.Runs)
			for i := range c.Runs {
				c.Runs[i].Dir = place(sh, c.Runs[i].Dir)
			}
			cells[c.Cell] = c
		}
		for i, r := range sh.m.Scenarios {
			if i >= len(info.Scenarios) {
				problems = append(problems, fmt.Sprintf("%s (shard %s) played more scenarios than its share", sh.dir, info.Shard))
				break
			}
			r.Dir = place(sh, r.Dir)
			played[info.Scenarios[i]] = append(played[info.Scenarios[i]], r)
		}
	}
	if len(problems) > 0 {
		return nil, nil, &MergeError{problems}
	}
	for _, c := range key.Cells {
		if r, ok := cells[c]; ok {
			m.Cells = append(m.Cells, r)
		}
	}
	for _, ref := range key.Scenarios {
		if rs := played[ref]; len(rs) > 0 {
			m.Scenarios = append(m.Scenarios, rs[0])
			played[ref] = rs[1:]
		}
	}
	m.Started = started.UTC().Format(time.RFC3339)
	m.Duration = longest.String() + " (the longest shard)"
	return m, copies, nil
}

// copyRuns copies the shards' runs into the merged directory dir.
func copyRuns(dir string, copies []runCopy) error {
	for _, c := range copies {
		if err := os.CopyFS(filepath.Join(dir, c.to), os.DirFS(c.from)); err != nil {
			return fmt.Errorf("copy the run %s: %w", c.from, err)
		}
	}
	return nil
}
