package checker

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/internal/fixtures"
)

// golden is what a fixture's run concluded, recorded by scripts/make-fixtures.sh.
type golden struct {
	Args         string    `json:"args"`
	Valid        Validity  `json:"valid"`
	Anomalies    Anomalies `json:"anomalies"`
	Fenced       int64     `json:"fenced"`
	Acknowledged int64     `json:"acknowledged"`
	FinalValue   *int64    `json:"final_value"`
}

// fixtureNames returns the names of the real recorded histories in testdata.
func fixtureNames(t *testing.T) []string {
	t.Helper()
	paths, err := fixtures.Paths("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, fixtures.Name(p))
	}
	return names
}

func readFixture(t *testing.T, name string) ([]history.Op, golden) {
	t.Helper()
	ops, err := fixtures.Read(filepath.Join("testdata", name+fixtures.Ext))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	b, err := os.ReadFile(filepath.Join("testdata", name+".golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s.golden.json: %v", name, err)
	}
	return ops, g
}

// TestFixtures checks real recorded histories (N0, V0, K1, K1-F, E1, R1 runs) against the verdict
// and anomaly counts their run reached, with every chunk size: a checker change that moves any of
// them is either a fix to explain or a regression.
func TestFixtures(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			ops, g := readFixture(t, name)
			for _, chunk := range []int{0, 7, 100} {
				res := Check(ops, Options{ChunkOps: chunk})
				if res.Valid != g.Valid {
					t.Errorf("ChunkOps %d: verdict %v, golden %v (%s)", chunk, res.Valid, g.Valid, g.Args)
				}
				got := res.Anomalies
				if chunk != 0 {
					// Porcupine counts illegal chunks; the count depends on the cut, the verdict not.
					got.Nonlinearizable, g.Anomalies.Nonlinearizable = min(got.Nonlinearizable, 1), min(g.Anomalies.Nonlinearizable, 1)
				}
				if got != g.Anomalies {
					t.Errorf("ChunkOps %d: anomalies %+v, golden %+v", chunk, got, g.Anomalies)
				}
				if res.Acknowledged != g.Acknowledged || (res.FinalValue == nil) != (g.FinalValue == nil) ||
					(res.FinalValue != nil && *res.FinalValue != *g.FinalValue) {
					t.Errorf("ChunkOps %d: acknowledged %d final %v, golden %d %v", chunk, res.Acknowledged, res.FinalValue, g.Acknowledged, g.FinalValue)
				}
				if res.Ops.Fenced != g.Fenced {
					t.Errorf("ChunkOps %d: %d fenced rejections, golden %d", chunk, res.Ops.Fenced, g.Fenced)
				}
				if res.Incomplete != "" {
					t.Errorf("a complete recorded history is called incomplete: %s", res.Incomplete)
				}
			}
		})
	}
}

// TestFixturesCutLog: deleting write-log lines from a real history never yields a verdict that
// claims more than the history shows: a valid run becomes unknown, never invalid; an invalid one
// stays invalid only through anomalies the clients' own records show, or becomes unknown.
func TestFixturesCutLog(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			ops, g := readFixture(t, name)
			for _, cut := range []int{1, 2000} {
				var kept []history.Op
				logs := 0
				for _, op := range ops {
					if op.F == history.WriteLog {
						logs++
					}
				}
				seen := 0
				for _, op := range ops {
					if op.F == history.WriteLog {
						seen++
						if seen > logs-cut {
							continue
						}
					}
					kept = append(kept, op)
				}
				res := Check(kept, Options{})
				if res.Valid == Valid {
					t.Errorf("%d log lines cut: valid, want unknown or invalid", cut)
				}
				if g.Valid == Valid && res.Valid == Invalid {
					t.Errorf("%d log lines cut from a valid run: invalid with %+v", cut, res.Anomalies)
				}
				if res.Incomplete == "" {
					t.Errorf("%d log lines cut: not reported incomplete", cut)
				}
			}
		})
	}
}

// Read in the file's own order (nearly in time, each process in order) rather than sorted, as
// `locktest analyze` reads a history, every real fixture gets the same result.
func TestFixturesInFileOrder(t *testing.T) {
	for _, name := range fixtureNames(t) {
		ops, _ := readFixture(t, name)
		want := Check(ops, Options{})
		got, err := CheckSource(Records(ops), Options{})
		if err != nil {
			t.Fatal(err)
		}
		got.Linearizability.CheckDuration, want.Linearizability.CheckDuration = 0, 0
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s: in file order\n got %s\nwant %s", name, g, w)
		}
	}
}

// The checker keeps only the first and the latest holds, yet the drawn window gets every hold
// that meets it: from the start of a long valid run, and around the first illegal chunk of one
// that lost an update.
func TestDrawnHoldsFromTheKeptOnes(t *testing.T) {
	for _, lost := range []int{0, 15_000} {
		ops := synthetic(synthConfig{processes: 5, incrs: 20_000, seed: 7, lostAt: lost, lostOverlap: lost > 0})
		res, err := CheckSource(Records(ops), Options{})
		if err != nil {
			t.Fatal(err)
		}
		v := res.vis
		var want []Hold
		for _, h := range scanHolds(t, Records(ops)) {
			if h.Start <= v.to && h.End >= v.from {
				want = append(want, h.Hold)
			}
		}
		got := slices.Clone(v.holds)
		slices.SortStableFunc(got, func(a, b Hold) int {
			if c := cmp.Compare(a.Start, b.Start); c != 0 {
				return c
			}
			return cmp.Compare(a.Process, b.Process)
		})
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("lost at %d: %d holds drawn, want the %d that meet the window", lost, len(got), len(want))
		}
	}
}
