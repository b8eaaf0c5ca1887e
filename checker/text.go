package checker

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// maxWarnings caps Result.Warnings: a broken harness can produce one oddity per record, and a
// million identical warnings help nobody.
const maxWarnings = 20

// warnings collects oddities found in a history, keeping the first few and counting the rest.
type warnings struct {
	msgs []string
	more int
}

func (w *warnings) add(format string, args ...any) {
	if len(w.msgs) >= maxWarnings {
		w.more++
		return
	}
	w.msgs = append(w.msgs, fmt.Sprintf(format, args...))
}

func (w *warnings) list() []string {
	if w.more == 0 {
		return w.msgs
	}
	return append(w.msgs[:len(w.msgs):len(w.msgs)], fmt.Sprintf("... and %d more warnings", w.more))
}

// seconds formats a duration in nanoseconds as seconds with millisecond precision.
func seconds(ns int64) string {
	return strconv.FormatFloat(float64(ns)/1e9, 'f', 3, 64) + "s"
}

// sortExamples orders examples by time so the report tells the story in order.
func sortExamples(ex []Example) {
	sort.SliceStable(ex, func(i, j int) bool { return ex[i].Time < ex[j].Time })
}

// distinct returns ps without repeats, in first-seen order.
func distinct(ps ...int) []int {
	var out []int
	for _, p := range ps {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
