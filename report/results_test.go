package report

import (
	"testing"

	"github.com/locktest/locktest/checker"
)

// An unknown verdict says why, and a stretch given up says how long it was.
func TestVerdictLineSaysWhyUnknown(t *testing.T) {
	final := int64(3)
	r := &Results{Result: &checker.Result{Valid: checker.Unknown, FinalValue: &final}}
	r.Linearizability.Result = "unknown"
	if got := verdictLine(r); got != "UNKNOWN (linearizability check incomplete)" {
		t.Errorf("timed out: %q", got)
	}
	r.Linearizability.GivenUpOps = 1200
	r.FinalValue = nil
	if got, want := verdictLine(r), "UNKNOWN (linearizability check incomplete: 1200 operations overlapped all along, too long a stretch to check, no final read)"; got != want {
		t.Errorf("given up: %q, want %q", got, want)
	}
}
