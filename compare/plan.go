// Package compare runs every lock backend under every fault and tabulates the verdicts: the
// evidence for choosing a lock, and for the Redlock debate.
package compare

import (
	"fmt"
	"strings"

	"github.com/locktest/locktest/backend"
	"github.com/locktest/locktest/explore"
	"github.com/locktest/locktest/lock"
	"github.com/locktest/locktest/nemesis"
	"github.com/locktest/locktest/workload"
)

// NoFault is the fault column without faults.
const NoFault = "none"

// Cell is one combination of the matrix.
type Cell struct {
	Backend lock.Backend     `json:"backend"`
	Fencing workload.Fencing `json:"fencing"`
	// Fault is a nemesis.Kind, an exploration profile's name (package explore), or NoFault.
	Fault string `json:"fault"`
}

// Row is a backend×fencing row name, as matrix.md shows it.
func (c Cell) Row() string {
	if c.Fencing == workload.NoFencing {
		return string(c.Backend)
	}
	return fmt.Sprintf("%s + fencing %s", c.Backend, c.Fencing)
}

func (c Cell) String() string { return c.Row() + " / " + c.Fault }

// Skip is a combination that is not run, and why.
type Skip struct {
	Cell Cell   `json:"cell"`
	Why  string `json:"why"`
}

// Plan is the matrix to run.
type Plan struct {
	// Faults are the matrix's columns, in order: the faults NewPlan was given.
	Faults  []string
	Cells   []Cell
	Skipped []Skip
	// Positions are the cells' positions in the whole plan when this is a shard's part of it
	// (a cell's seeds derive from its position); nil for the whole plan.
	Positions []int
}

// position is the position of Cells[i] in the whole plan.
func (p Plan) position(i int) int {
	if p.Positions == nil {
		return i
	}
	return p.Positions[i]
}

// profileApplies says whether any move of an exploration profile can act on backend b at its
// usual size, and if none can, why.
func profileApplies(prof *explore.Profile, b *backend.Backend) (bool, string) {
	n, _ := b.NodeCount(0)
	e := explore.Env{Kind: b.Kind(), SessionLease: b.SessionLease}
	for i := range n {
		e.Nodes = append(e.Nodes, fmt.Sprintf("n%d", i+1))
	}
	moves, why := prof.Applicable(e)
	if len(moves) == 0 {
		return false, "no move of profile " + prof.Name + " applies: " + strings.Join(why, "; ")
	}
	return true, ""
}

// NewPlan builds the matrix, leaving out the combinations that make no sense and saying why.
func NewPlan(backends []*backend.Backend, fencings []workload.Fencing, faults []string) Plan {
	p := Plan{Faults: faults}
	for _, b := range backends {
		for _, f := range fencings {
			for _, fault := range faults {
				c := Cell{Backend: b.Name, Fencing: f, Fault: fault}
				applies, why := true, ""
				if fk, err := nemesis.Of(nemesis.Kind(fault)); err == nil {
					applies, why = fk.AppliesTo(b.Nodes)
				} else if prof, err := explore.Of(fault); err == nil {
					applies, why = profileApplies(prof, b)
				}
				switch {
				case f.NeedsTokens() && !b.Tokens:
					p.Skipped = append(p.Skipped, Skip{c, fmt.Sprintf("%s has no monotonic fencing tokens to check", b)})
				case !applies:
					p.Skipped = append(p.Skipped, Skip{c, why})
				default:
					p.Cells = append(p.Cells, c)
				}
			}
		}
	}
	return p
}
