package nemesis

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// fakeLink records what a fault did to it.
type fakeLink struct{ calls []string }

func (l *fakeLink) SetDelay(to, _ time.Duration) { l.calls = append(l.calls, fmt.Sprint("delay ", to)) }
func (l *fakeLink) Cut(m PartitionMode)          { l.calls = append(l.calls, "cut "+string(m)) }
func (l *fakeLink) Restore()                     { l.calls = append(l.calls, "restore") }

// fakeLinks are 2 clients' paths to n1, n2 (lock nodes) and storage.
type fakeLinks map[string]*fakeLink

func newFakeLinks() fakeLinks {
	l := fakeLinks{}
	for p := range 2 {
		for _, n := range []string{"n1", "n2", "storage"} {
			l[fmt.Sprintf("p%d:%s", p, n)] = &fakeLink{}
		}
	}
	return l
}

func (l fakeLinks) Link(p int, node string) (Link, bool) {
	x, ok := l[fmt.Sprintf("p%d:%s", p, node)]
	return x, ok
}
func (l fakeLinks) Processes() int      { return 2 }
func (l fakeLinks) LockNodes() []string { return []string{"n1", "n2"} }

// A cut takes down exactly the paths its targets name, "lock" standing for every lock node, and
// its heal restores them.
func TestCutTakesDownTheNamedPaths(t *testing.T) {
	for _, tt := range []struct {
		targets []string
		mode    PartitionMode
		cut     []string // the paths cut
	}{
		{[]string{"p1:lock"}, Reject, []string{"p1:n1", "p1:n2"}},
		{[]string{"p0:storage"}, "", []string{"p0:storage"}}, // drop by default
		{[]string{"n2"}, Drop, []string{"p0:n2", "p1:n2"}},
		{[]string{"p0:n1", "p1:storage"}, Drop, []string{"p0:n1", "p1:storage"}},
	} {
		links := newFakeLinks()
		ts, err := ParseTargets(AimLinks, tt.targets)
		if err != nil {
			t.Fatal(err)
		}
		f, err := NewCut(links, tt.mode, ts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Inject(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := f.Heal(context.Background()); err != nil {
			t.Fatal(err)
		}
		mode := tt.mode
		if mode == "" {
			mode = Drop
		}
		for name, l := range links {
			var want []string
			for _, c := range tt.cut {
				if c == name {
					want = []string{"cut " + string(mode), "restore"}
				}
			}
			if !reflect.DeepEqual(l.calls, want) {
				t.Errorf("targets %v: path %s got %v, want %v", tt.targets, name, l.calls, want)
			}
		}
	}
	if _, err := NewCut(newFakeLinks(), Drop, Target{Client: "p5", Node: "n1"}); err == nil {
		t.Error("a cut of a client the run does not have was built")
	}
}
