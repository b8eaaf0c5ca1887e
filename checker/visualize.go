package checker

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

const (
	// maxVisOps bounds the drawn window: Porcupine's page becomes unusable (and its verbose check
	// slow) much beyond a couple of thousand operations.
	maxVisOps = 2000
	// visTimeout bounds the verbose re-check done for drawing.
	visTimeout = 30 * time.Second

	overlapColor = "#f4a3a3"
	holdColor    = "#cfe3f7"
)

// visWindow is the part of the history WriteVisualization draws, chosen by Check and kept so
// that drawing needs neither the history nor the other chunks.
type visWindow struct {
	ops   []linOp
	meta  []opMeta
	init  counterState
	from  int64
	to    int64
	holds []Hold
	extra []porcupine.Annotation
}

// WriteVisualization writes Porcupine's HTML page for a window of at most about 2000 operations:
// starting at the first illegal chunk if there is one, else at the start of the history. Lock
// holds are drawn on a row per process ("lock p2"), overlapping holds and the overlaps themselves
// in red, together with any annotations added by [Result.AddAnnotations].
func (r *Result) WriteVisualization(w io.Writer) error {
	v := &r.vis
	// Porcupine draws one row per client and wants them numbered from zero.
	clients := make([]int, 0, len(v.ops))
	for _, m := range v.meta {
		clients = append(clients, m.client)
	}
	slices.Sort(clients)
	clients = slices.Compact(clients)
	ops := make([]porcupine.Operation, len(v.ops))
	for i, op := range v.ops {
		ret := op.ret
		if ret == math.MaxInt64 {
			// Equivalent for the check (the op still ends after every other in the window) and
			// keeps the drawing's time axis readable.
			ret = v.to + 1
		}
		row, _ := slices.BinarySearch(clients, v.meta[i].client)
		ops[i] = porcupine.Operation{ClientId: row, Input: op.kind, Output: op.value, Call: op.call, Return: ret, Metadata: &v.meta[i]}
	}
	model := newCounterModel(v.init)
	_, info := porcupine.CheckOperationsVerbose(model, ops, visTimeout)
	info.AddAnnotations(v.annotations())
	return porcupine.Visualize(model, info, w)
}

// annotations draws the holds, their overlaps and the extra annotations, clipped to the window.
func (v *visWindow) annotations() []porcupine.Annotation {
	var out []porcupine.Annotation
	clip := func(a porcupine.Annotation) {
		end := max(a.End, a.Start)
		if a.Start > v.to || end < v.from {
			return
		}
		a.Start, a.End = max(a.Start, v.from), min(end, v.to)
		out = append(out, a)
	}
	overlapping := make([]bool, len(v.holds))
	var overlaps []porcupine.Annotation
	for i := range v.holds {
		for j := i + 1; j < len(v.holds); j++ {
			a, b := &v.holds[i], &v.holds[j]
			from, to := max(a.Start, b.Start), min(a.End, b.End)
			if a.Process == b.Process || from >= to {
				continue
			}
			overlapping[i], overlapping[j] = true, true
			overlaps = append(overlaps, porcupine.Annotation{
				Tag: "overlap", Start: from, End: to,
				Description:     fmt.Sprintf("p%d & p%d overlap", a.Process, b.Process),
				Details:         fmt.Sprintf("processes %d and %d both believed they held the lock", a.Process, b.Process),
				BackgroundColor: overlapColor,
			})
		}
	}
	for i, h := range v.holds {
		desc := fmt.Sprintf("p%d holds", h.Process)
		if h.Token != 0 {
			desc += fmt.Sprintf(" (token %d)", h.Token)
		}
		details := fmt.Sprintf("client %d, owner %q", h.Client, h.Owner)
		if h.Deadline != 0 {
			details += fmt.Sprintf(", valid until %d", h.Deadline)
		}
		if h.Open {
			details += ", never released"
		}
		color := holdColor
		if overlapping[i] {
			color = overlapColor
		}
		clip(porcupine.Annotation{
			Tag: fmt.Sprintf("lock p%d", h.Process), Start: h.Start, End: h.End,
			Description: desc, Details: details, BackgroundColor: color,
		})
	}
	for _, a := range overlaps {
		clip(a)
	}
	for _, a := range v.extra {
		if a.Tag == "" {
			a.Tag = "annotations"
		}
		clip(a)
	}
	return out
}
