package report

import (
	"strings"
	"testing"

	"github.com/locktest/locktest/checker"
)

// An interrupted run's partial verdict is never shown as a plain VALID, nor passed in JUnit.
func TestInterruptedRunIsSaidFirst(t *testing.T) {
	r := &Results{Result: &checker.Result{Valid: checker.Valid}, Backend: "nolock", Interrupted: true}
	var b strings.Builder
	PrintSummary(&b, r, "d")
	if first := strings.TrimSpace(b.String()); !strings.HasPrefix(first, "INTERRUPTED, partial verdict VALID  backend=nolock") {
		t.Errorf("summary:\n%s", b.String())
	}
	c := JUnitFromResults(r, "locktest.nolock", "nolock")
	if c.Error == "" || !strings.Contains(c.Error, "interrupted") {
		t.Errorf("JUnit case of an interrupted run: %+v, want an error", c)
	}
}
