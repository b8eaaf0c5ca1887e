// Package prose writes lists the way the reports' sentences need them.
package prose

import "strings"

// And joins items as a sentence does: "a", "a and b", "a, b and c"; none when there are none.
func And(items []string, none string) string {
	switch len(items) {
	case 0:
		return none
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
