package checker

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// resultJSON strips what differs between two checks of one history by nature: the time taken.
func resultJSON(t *testing.T, res *Result) string {
	t.Helper()
	c := *res
	c.Linearizability.CheckDuration = 0
	b, err := json.MarshalIndent(&c, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// On every simulated run, the streaming check's whole result equals the whole-history check's:
// verdict, counts, examples, liveness, warnings, holds and the drawn window.
func TestCheckSourceMatchesCheck(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 300
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		sr := simulate(seed)
		opts := Options{Timeout: time.Minute}
		want := Check(sr.ops, opts)
		opts.KeepHolds = true
		got, err := CheckSource(Records(sr.ops), opts)
		if err != nil {
			t.Fatal(err)
		}
		tag := fmt.Sprintf("seed %d (%s)", seed, sr.mode)
		if g, w := resultJSON(t, got), resultJSON(t, want); g != w {
			t.Errorf("%s: results differ: %s", tag, lineDiff(g, w))
			continue
		}
		if !slices.Equal(got.Holds, want.Holds) {
			t.Errorf("%s: holds differ", tag)
		}
		gv, wv := got.vis, want.vis
		if !slices.Equal(visOps(gv), visOps(wv)) || gv.init != wv.init || gv.from != wv.from || gv.to != wv.to || len(gv.holds) != len(wv.holds) {
			t.Errorf("%s: drawn window differs: %d ops from %+v [%d,%d] %d holds; want %d ops from %+v [%d,%d] %d holds", tag,
				len(gv.ops), gv.init, gv.from, gv.to, len(gv.holds), len(wv.ops), wv.init, wv.from, wv.to, len(wv.holds))
		}
	}
}

// visOps lists a drawn window's operations with their labels, in one order (operations that call
// and end at the same time may come in either order: Porcupine does not care).
func visOps(v visWindow) []string {
	out := make([]string, len(v.ops))
	for i, op := range v.ops {
		op.src = 0
		out[i] = fmt.Sprintf("%+v %+v", op, v.meta[i])
	}
	slices.Sort(out)
	return out
}

// lineDiff shows the lines where two texts of equal shape differ.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var out []string
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			out = append(out, fmt.Sprintf("line %d:\n  got %s\n want %s", i+1, a, b))
		}
		if len(out) >= 6 {
			break
		}
	}
	return strings.Join(out, "\n")
}

// On the real recorded histories too (a paused holder, a failover, nolock, fenced runs), the
// streaming check's whole result equals the whole-history check's.
func TestCheckSourceMatchesCheckOnFixtures(t *testing.T) {
	for _, name := range fixtures(t) {
		ops, _ := readFixture(t, name)
		want := Check(ops, Options{})
		got, err := CheckSource(Records(ops), Options{KeepHolds: true})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := resultJSON(t, got), resultJSON(t, want); g != w {
			t.Errorf("%s: results differ: %s", name, lineDiff(g, w))
		}
		if !slices.Equal(got.Holds, want.Holds) {
			t.Errorf("%s: holds differ", name)
		}
	}
}
