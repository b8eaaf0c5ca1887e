package compare

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/workload"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"1/1": {1, 1}, "2/3": {2, 3}, " 3 / 3 ": {3, 3}} {
		if got, err := ParseShard(in); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "3", "0/3", "4/3", "1/0", "-1/2", "a/b", "1/2/3"} {
		if _, err := ParseShard(in); err == nil || !strings.Contains(err.Error(), "K/N") {
			t.Errorf("ParseShard(%q) = %v, want an error naming the form K/N", in, err)
		}
	}
}

// Every cell and scenario goes to exactly one shard; the cells of a shard are contiguous in plan
// order; no shard is loaded beyond its equal share by more than the largest item; and the split
// is the same every time it is computed.
func TestSplitBalancesAndCoversOnce(t *testing.T) {
	cell := 17 * time.Second
	for _, tc := range []struct {
		cells     int
		scenarios []time.Duration
		n         int
	}{
		{24, []time.Duration{25 * time.Second, 30 * time.Second}, 3},
		{62, []time.Duration{25 * time.Second, 45 * time.Second, 40 * time.Second, 30 * time.Second}, 4},
		{5, nil, 2},
		{2, []time.Duration{60 * time.Second}, 5}, // more shards than work: some are empty
		{10, []time.Duration{10 * time.Second}, 1},
	} {
		cellCost := slices.Repeat([]time.Duration{cell}, tc.cells)
		cs, ss := split(cellCost, tc.scenarios, tc.n)
		cs2, ss2 := split(cellCost, tc.scenarios, tc.n)
		if !slices.Equal(cs, cs2) || !slices.Equal(ss, ss2) {
			t.Errorf("%d cells, %d shards: two splits differ", tc.cells, tc.n)
		}
		load := make([]time.Duration, tc.n)
		var total, largest time.Duration = 0, cell
		for i, k := range cs {
			if k < 0 || k >= tc.n || (i > 0 && k < cs[i-1]) {
				t.Fatalf("%d cells, %d shards: cell shards %v are not contiguous in plan order", tc.cells, tc.n, cs)
			}
			load[k] += cell
			total += cell
		}
		for j, k := range ss {
			load[k] += tc.scenarios[j]
			total += tc.scenarios[j]
			largest = max(largest, tc.scenarios[j])
		}
		for k, l := range load {
			if l > total/time.Duration(tc.n)+largest {
				t.Errorf("%d cells, %d shards: shard %d has %v of %v, more than its share plus one item", tc.cells, tc.n, k+1, l, total)
			}
		}
	}
}

// writingRunner is a fake harness whose runs write a results directory, as real runs do, with a
// verdict made up from the cell: nolock is invalid, every other backend valid; scenarios meet
// their expectation.
func writingRunner(t *testing.T, seeds *[]int64) {
	fakeRunner(t, func(_ context.Context, p harness.Params) (*harness.Outcome, error) {
		dir := filepath.Join(p.ResultsDir, string(p.Backend), fmt.Sprintf("seed-%d-%s", p.Seed, filepath.Base(p.ScenarioFile)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte(`{"seed":`+fmt.Sprint(p.Seed)+`}`), 0o644); err != nil {
			return nil, err
		}
		*seeds = append(*seeds, p.Seed)
		v, a := checker.Valid, checker.Anomalies{}
		if p.Backend == lock.NoLock {
			v, a = checker.Invalid, checker.Anomalies{LostUpdates: 2}
		}
		o := &harness.Outcome{Dir: dir, Results: &report.Results{Result: &checker.Result{Valid: v, Anomalies: a}}}
		if p.ScenarioFile != "" {
			o.Results.Scenario = &report.ScenarioOutcome{Met: true}
		}
		return o, nil
	})
}

// mergePlan is a small plan: two backends, two fencings, two faults; redis-single fenced, nolock's
// fenced row and pauses of nolock's nodes skipped.
func mergePlan(t *testing.T) Plan {
	return NewPlan(backends(t, lock.NoLock, lock.RedisSingle, lock.Redlock), []workload.Fencing{workload.NoFencing, workload.FenceReadsWrites},
		[]string{NoFault, "pause-client"})
}

// The shards of a plan, merged, are the matrix of the whole plan: the same cells in the same
// order with the same verdicts, seeds and links (each link a directory of the merged matrix), the
// same scenarios; and the runs are the same runs, each made once.
func TestMergeEqualsWholePlan(t *testing.T) {
	var wholeSeeds, shardSeeds []int64
	spec := Spec{Plan: mergePlan(t), Base: testBase(), Runs: 2, Scenarios: []string{"K1-W", "R1", "K3"},
		Expect: Expectations{"nolock": {"none": {"none": "invalid"}}}}

	writingRunner(t, &wholeSeeds)
	whole := spec
	whole.ResultsDir = t.TempDir()
	wm, wo, err := RunMatrix(context.Background(), whole)
	if err != nil || wo.Status != StatusPassed {
		t.Fatalf("whole: %v, %v", wo.Status, err)
	}

	writingRunner(t, &shardSeeds)
	var dirs []string
	for _, k := range []int{3, 1, 2} { // any order
		s := spec
		s.ResultsDir = t.TempDir()
		s.Shard = Shard{K: k, N: 3}
		m, o, err := RunMatrix(context.Background(), s)
		if err != nil || o.Status != StatusPassed {
			t.Fatalf("shard %d: %v, %v", k, o.Status, err)
		}
		if m.Shard == nil || m.Shard.K != k || len(m.Cells) == 0 || len(m.Cells) == len(wm.Cells) {
			t.Fatalf("shard %d: shard info %+v, %d of %d cells: want a part of the plan", k, m.Shard, len(m.Cells), len(wm.Cells))
		}
		dirs = append(dirs, o.Dir)
	}
	slices.Sort(wholeSeeds)
	slices.Sort(shardSeeds)
	if !slices.Equal(wholeSeeds, shardSeeds) {
		t.Errorf("the shards ran seeds %v, the whole plan %v: want the same runs", shardSeeds, wholeSeeds)
	}

	out := t.TempDir()
	junit := filepath.Join(out, "junit.xml")
	mm, mo, err := Merge(MergeSpec{Dirs: dirs, Expect: spec.Expect, ResultsDir: out, JUnit: junit})
	if err != nil {
		t.Fatal(err)
	}
	if mo.Status != StatusPassed || mo.Ran != len(spec.Plan.Cells) || mo.Planned != len(spec.Plan.Cells) {
		t.Errorf("merged outcome %+v, want passed with every cell", mo)
	}
	// How long each run took is all that may differ.
	for _, m := range []*Matrix{mm, wm} {
		for i := range m.Cells {
			for j := range m.Cells[i].Runs {
				m.Cells[i].Runs[j].Seconds = 0
			}
		}
		for i := range m.Scenarios {
			m.Scenarios[i].Seconds = 0
		}
	}
	if !reflect.DeepEqual(mm.Cells, wm.Cells) {
		t.Errorf("merged cells differ from the whole plan's:\n%s\nwant\n%s", jsonText(mm.Cells), jsonText(wm.Cells))
	}
	if !reflect.DeepEqual(mm.Scenarios, wm.Scenarios) || !reflect.DeepEqual(mm.Skipped, wm.Skipped) || !reflect.DeepEqual(mm.Faults, wm.Faults) || mm.Params != wm.Params {
		t.Errorf("merged scenarios, skips, faults or params differ from the whole plan's:\n%s\nwant\n%s", jsonText(mm.Scenarios), jsonText(wm.Scenarios))
	}
	if len(mm.MergedFrom) != 3 || mm.Shard != nil {
		t.Errorf("merged from %v, shard %v", mm.MergedFrom, mm.Shard)
	}
	// Every link of the merged matrix is a run copied into it.
	for _, c := range mm.Cells {
		for _, r := range c.Runs {
			if _, err := os.Stat(filepath.Join(mo.Dir, r.Dir, "results.json")); err != nil {
				t.Errorf("cell %s links %s: %v", c.Cell, r.Dir, err)
			}
		}
	}
	for _, r := range mm.Scenarios {
		if _, err := os.Stat(filepath.Join(mo.Dir, r.Dir, "results.json")); err != nil {
			t.Errorf("scenario %s links %s: %v", r.Name, r.Dir, err)
		}
	}
	for _, f := range []string{"matrix.md", "matrix.html", "matrix.json", "junit.xml"} {
		if _, err := os.Stat(filepath.Join(out, f)); f == "junit.xml" && err != nil {
			t.Error(err)
		} else if _, err := os.Stat(filepath.Join(mo.Dir, f)); f != "junit.xml" && err != nil {
			t.Error(err)
		}
	}
	if latest, err := os.Readlink(filepath.Join(out, "compare", "latest")); err != nil || filepath.Base(latest) != filepath.Base(mo.Dir) {
		t.Errorf("latest link %q, %v; want %s", latest, err, mo.Dir)
	}

	// A shard cut short leaves its missing cells out of the merge, which says so.
	cut := filepath.Join(t.TempDir(), "cut")
	if err := os.CopyFS(cut, os.DirFS(dirs[0])); err != nil {
		t.Fatal(err)
	}
	cm, err := readMatrix(cut)
	if err != nil {
		t.Fatal(err)
	}
	cm.Interrupted, cm.Cells = true, cm.Cells[:len(cm.Cells)-1]
	if err := report.WriteJSON(filepath.Join(cut, "matrix.json"), cm); err != nil {
		t.Fatal(err)
	}
	im, cutOutcome, err := Merge(MergeSpec{Dirs: []string{cut, dirs[1], dirs[2]}, ResultsDir: t.TempDir()})
	if err != nil || cutOutcome.Status != StatusInterrupted || cutOutcome.Ran != len(spec.Plan.Cells)-1 || !im.Interrupted {
		t.Errorf("merge with a shard cut short: %+v, %v; want interrupted, one cell fewer", cutOutcome, err)
	}

	// Expectations apply to the merged matrix.
	_, mo, err = Merge(MergeSpec{Dirs: dirs, Expect: Expectations{"nolock": {"none": {"none": "valid"}}}, ResultsDir: t.TempDir()})
	if err != nil || mo.Status != StatusMismatched || len(mo.Mismatches) != 1 {
		t.Errorf("merge with a wrong expectation: %+v, %v; want one mismatch", mo, err)
	}
}

// Directories that are not the N shards of one plan, each once, are refused with a message
// naming what is wrong, and nothing is written.
func TestMergeRefuses(t *testing.T) {
	var seeds []int64
	writingRunner(t, &seeds)
	shard := func(k, n int, seed int64) string {
		s := Spec{Plan: mergePlan(t), Base: testBase(), Runs: 1, ResultsDir: t.TempDir(), Shard: Shard{K: k, N: n}}
		s.Base.Seed = seed
		_, o, err := RunMatrix(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		return o.Dir
	}
	whole := func() string {
		_, o, err := RunMatrix(context.Background(), Spec{Plan: mergePlan(t), Base: testBase(), ResultsDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return o.Dir
	}
	s1, s2, s3 := shard(1, 3, 100), shard(2, 3, 100), shard(3, 3, 100)
	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"none", nil, "no shard directories"},
		{"missing", []string{s1, s3}, "shard 2/3 missing"},
		{"twice", []string{s1, s2, s3, s2}, "shard 2/3 given twice"},
		{"another seed", []string{s1, s2, shard(3, 3, 7)}, "seed 100 vs 7"},
		{"another split", []string{s1, s2, shard(2, 2, 100)}, "a comparison is split one way"},
		{"not a shard", []string{s1, s2, s3, whole()}, "not a shard"},
		{"not a matrix", []string{s1, s2, t.TempDir()}, "has no matrix.json"},
	} {
		out := t.TempDir()
		_, _, err := Merge(MergeSpec{Dirs: tc.dirs, ResultsDir: out})
		var me *MergeError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a MergeError saying %q", tc.name, err, tc.want)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("%s: wrote %d entries, want nothing", tc.name, len(entries))
		}
	}
}
