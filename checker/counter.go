package checker

import (
	"slices"
)

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
