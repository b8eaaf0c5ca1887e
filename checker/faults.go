package checker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/locktest/locktest/history"
)

// FaultWindow is one fault the nemesis injected, from its injection to its heal.
type FaultWindow struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Targets []string `json:"targets"`
	Detail  string   `json:"detail,omitempty"`
	// Start and End are CLOCK_MONOTONIC nanoseconds; End is 0 when no heal was recorded.
	Start   int64        `json:"start"`
	End     int64        `json:"end"`
	Outcome FaultOutcome `json:"outcome"`
	Error   string       `json:"error,omitempty"`
}

// FaultOutcome is how a fault window ended.
type FaultOutcome string

const (
	// FaultHealed: the fault was injected and healed.
	FaultHealed FaultOutcome = "healed"
	// FaultFailed: the injection failed and was undone; the fault never took effect.
	FaultFailed FaultOutcome = "failed"
	// FaultUnknown: a heal failed, or none was recorded; the fault may still be in force.
	FaultUnknown FaultOutcome = "unknown"
)

// TookEffect says whether the fault acted on its targets (or may have).
func (o FaultOutcome) TookEffect() bool { return o != FaultFailed }

// faultWindows pairs the nemesis records of a history into windows, in start order.
func faultWindows(ops []history.Op) []FaultWindow {
	byID := map[string]*FaultWindow{}
	var order []string
	for _, op := range ops {
		if op.F != history.Nemesis {
			continue
		}
		w, ok := byID[op.ID]
		if !ok {
			w = &FaultWindow{ID: op.ID, Kind: op.Fault, Outcome: FaultUnknown}
			byID[op.ID] = w
			order = append(order, op.ID)
		}
		switch op.Type {
		case history.Invoke:
			w.Start, w.Targets, w.Detail = op.Time, op.Targets, op.Detail
		case history.OK:
			w.End, w.Outcome = op.Time, FaultHealed
		case history.Fail:
			w.End, w.Outcome, w.Error = op.Time, FaultFailed, op.Error
		case history.Info:
			w.Outcome, w.Error = FaultUnknown, op.Error
		}
	}
	out := make([]FaultWindow, 0, len(order))
	for _, id := range order {
		w := byID[id]
		if w.Outcome == FaultUnknown && w.Error == "" {
			// Only its start was recorded: the harness died (or the history was cut) while the
			// fault was in force.
			w.Error = "no heal was recorded (the run ended while the fault was in force)"
		}
		out = append(out, *w)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// faultAnnotations draws each fault window on a row of its own kind in the visualization.
func faultAnnotations(ws []FaultWindow, end int64) []porcupine.Annotation {
	var out []porcupine.Annotation
	for _, w := range ws {
		if w.Outcome == FaultFailed {
			continue
		}
		stop := w.End
		if stop == 0 {
			stop = end
		}
		desc := fmt.Sprintf("%s %s", w.Kind, strings.Join(w.Targets, ","))
		out = append(out, porcupine.Annotation{
			Tag: "fault " + w.Kind, Start: w.Start, End: stop, Description: desc,
			Details:         fmt.Sprintf("%s %s: %s (%s)", w.ID, desc, w.Detail, w.Outcome),
			BackgroundColor: "#ffd27f",
		})
	}
	return out
}
