package nemesis

import (
	"context"
	"errors"
	"slices"
	"testing"
)

type stubFault struct {
	kind    Kind
	targets []string
	healErr error
}

func (f *stubFault) Kind() Kind                   { return f.kind }
func (f *stubFault) Targets() []string            { return f.targets }
func (f *stubFault) Inject(context.Context) error { return nil }
func (f *stubFault) Heal(context.Context) error   { return f.healErr }

// ActiveFaults lists what is in force, in order of injection, and keeps a fault whose heal failed.
func TestActiveFaults(t *testing.T) {
	ctx := context.Background()
	n := New(nil, nil)
	a, _ := n.Inject(ctx, &stubFault{kind: PauseNode, targets: []string{"n3"}})
	n.Inject(ctx, &stubFault{kind: Partition, targets: []string{"n1", "n2"}})
	n.Inject(ctx, &stubFault{kind: Clock, targets: []string{"n4"}, healErr: errors.New("exec failed")})
	if got, want := n.ActiveFaults(), []string{"pause-node n3", "partition n1,n2", "clock n4"}; !slices.Equal(got, want) {
		t.Fatalf("active: %q, want %q", got, want)
	}
	n.Heal(ctx, a)
	n.HealAll(ctx)
	if got, want := n.ActiveFaults(), []string{"clock n4"}; !slices.Equal(got, want) || n.Active() != 1 {
		t.Errorf("after healing: %q (Active %d), want %q", got, n.Active(), want)
	}
}
