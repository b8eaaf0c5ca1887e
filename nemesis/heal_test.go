package nemesis

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/history"
)

// memRecorder keeps the records a Nemesis makes.
type memRecorder struct{ ops []history.Op }

func (m *memRecorder) Append(op history.Op) error {
	m.ops = append(m.ops, op)
	return nil
}

// flakyFault fails to heal until healErrs runs out; injectErr fails its injection.
type flakyFault struct {
	stubFault
	injectErr error
	healErrs  []error
}

func (f *flakyFault) Inject(context.Context) error { return f.injectErr }
func (f *flakyFault) Heal(context.Context) error {
	if len(f.healErrs) == 0 {
		return nil
	}
	err := f.healErrs[0]
	f.healErrs = f.healErrs[1:]
	return err
}

// windowOf runs the checker's pairing of fault records and returns the window of id, with the
// checker's warnings.
func windowOf(t *testing.T, rec *memRecorder, id string) (checker.FaultWindow, []string) {
	t.Helper()
	res := checker.Check(rec.ops, checker.Options{})
	for _, w := range res.Faults {
		if w.ID == id {
			return w, res.Warnings
		}
	}
	t.Fatalf("no window %s in %+v", id, res.Faults)
	return checker.FaultWindow{}, nil
}

// A heal that fails records why, so the warning about the fault left in force says what failed.
func TestFailedHealRecordsItsError(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		healErr error
		want    string
	}{
		{"an error", errors.New(`n3: exec "iptables -D INPUT -s 172.18.0.1 -j DROP" in 1a2b3c: exit 1: iptables: Bad rule`),
			`heal: n3: exec "iptables -D INPUT -s 172.18.0.1 -j DROP" in 1a2b3c: exit 1: iptables: Bad rule`},
		{"an error without a message", errors.New(""), "heal: *errors.errorString, with an empty message"},
		{"joined errors without a message", errors.Join(errors.New(" "), errors.New("")), "heal: *errors.joinError, with an empty message"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &memRecorder{}
			n := New(rec, nil)
			f := &flakyFault{stubFault: stubFault{kind: Partition, targets: []string{"n3"}}, healErrs: []error{tc.healErr}}
			id, err := n.Inject(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Heal(ctx, id); err == nil {
				t.Fatal("the failed heal returned no error")
			}
			last := rec.ops[len(rec.ops)-1]
			if last.Type != history.Info || last.ID != id || last.Error != tc.want {
				t.Fatalf("heal recorded %+v, want info with error %q", last, tc.want)
			}
			w, warnings := windowOf(t, rec, id)
			if w.Outcome != checker.FaultUnknown || w.Error != tc.want {
				t.Errorf("window %+v, want unknown with error %q", w, tc.want)
			}
			said := false
			for _, s := range warnings {
				said = said || (strings.Contains(s, id) && strings.HasSuffix(s, tc.want))
			}
			if !said {
				t.Errorf("no warning about %s ends with %q: %q", id, tc.want, warnings)
			}
			// A later heal that works (HealAll at the end of the run) closes the window.
			if err := n.HealAll(ctx); err != nil {
				t.Fatal(err)
			}
			if w, _ := windowOf(t, rec, id); w.Outcome != checker.FaultHealed || n.Active() != 0 {
				t.Errorf("after a heal that worked: window %+v, %d active", w, n.Active())
			}
		})
	}
}

// An injection that fails and cannot be undone says both why it failed and why the undo did.
func TestFailedInjectAndHealRecordBoth(t *testing.T) {
	rec := &memRecorder{}
	n := New(rec, nil)
	f := &flakyFault{stubFault: stubFault{kind: Kill, targets: []string{"n1"}},
		injectErr: errors.New("kill n1: no such container"), healErrs: []error{errors.New("start n1: no such container")}}
	id, err := n.Inject(context.Background(), f)
	if err == nil {
		t.Fatal("the failed injection returned no error")
	}
	want := "kill n1: no such container; heal: start n1: no such container"
	if w, _ := windowOf(t, rec, id); w.Outcome != checker.FaultUnknown || w.Error != want {
		t.Errorf("window %+v, want unknown with error %q", w, want)
	}
}
