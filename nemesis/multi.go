package nemesis

import (
	"context"
	"errors"
	"time"

	"github.com/locktest/locktest/cluster"
)

// newClockFault shifts the wall clock of every node by delta.
func newClockFault(d NodeControl, nodes []cluster.Node, delta time.Duration) Fault {
	fs := make([]Fault, len(nodes))
	for i, n := range nodes {
		fs[i] = NewClockBump(d, n, delta)
	}
	return all(fs)
}

// all is several faults of one kind that start and stop together.
type all []Fault

func (a all) Kind() Kind { return a[0].Kind() }

func (a all) Targets() []string {
	var out []string
	for _, f := range a {
		out = append(out, f.Targets()...)
	}
	return out
}

func (a all) Detail() string { return detail(a[0]) }

// Inject injects each fault in turn; if one fails, those already injected are healed.
func (a all) Inject(ctx context.Context) error {
	for i, f := range a {
		if err := f.Inject(ctx); err != nil {
			return errors.Join(err, a[:i+1].Heal(ctx))
		}
	}
	return nil
}

func (a all) Heal(ctx context.Context) error {
	var errs []error
	for _, f := range a {
		errs = append(errs, f.Heal(ctx))
	}
	return errors.Join(errs...)
}
