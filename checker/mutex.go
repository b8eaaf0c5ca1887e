package checker

import (
	"fmt"
	"strings"
)

// overlapExample describes holds a and b overlapping from from to to (at formats a time), including whether each holder was still inside its
// validity: two holders both inside their validity means the lock service itself handed out the
// lock twice (Kleppmann's clock scenario), while an expired holder means a client outlived its
// lease (a pause or delay).
func overlapExample(a, b *Hold, from, to int64, at func(int64) string) Example {
	describe := func(h *Hold) string {
		s := fmt.Sprintf("process %d (client %d, owner %q, token %d, acquired at %s", h.Process, h.Client, h.Owner, h.Token, at(h.Start))
		if h.Open {
			s += ", never released"
		}
		return s + ")"
	}
	var validity string
	inside := func(h *Hold) bool { return h.Deadline != 0 && h.Deadline > from }
	switch {
	case inside(a) && inside(b):
		validity = "both were still inside their validity"
	default:
		var parts []string
		for _, h := range []*Hold{a, b} {
			switch {
			case h.Deadline == 0:
				parts = append(parts, fmt.Sprintf("process %d's validity is unknown", h.Process))
			case inside(h):
				parts = append(parts, fmt.Sprintf("process %d was inside its validity", h.Process))
			default:
				parts = append(parts, fmt.Sprintf("process %d's validity had ended at %s", h.Process, at(h.Deadline)))
			}
		}
		validity = strings.Join(parts, ", ")
	}
	return Example{
		Kind: "overlaps",
		Text: fmt.Sprintf("%s and %s both believed they held the lock from %s to %s; %s",
			describe(a), describe(b), at(from), at(to), validity),
		Time:      from,
		Processes: distinct(a.Process, b.Process),
	}
}
