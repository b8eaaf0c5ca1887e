package compare

import (
	"fmt"
	"time"

	"github.com/locktest/locktest/internal/prose"
)

// QuickMatrix is a smaller comparison for a first look: fewer fault columns and scenarios.
type QuickMatrix struct {
	// Faults are the fault columns (NoFault or nemesis kinds).
	Faults []string
	// Scenarios are the scenarios played after the cells.
	Scenarios []string
	// About is roughly how long it takes with the default backends and settings.
	About time.Duration
}

// Quick is what `locktest compare --quick` means, the one place that says so: every backend with
// no fault and under client pauses, unfenced and fenced, then K1-W and R1.
var Quick = QuickMatrix{
	Faults:    []string{NoFault, "pause-client"},
	Scenarios: []string{"K1-W", "R1"},
	About:     6 * time.Minute,
}

// String says what the quick matrix is, as the --quick flag's help does: "a first look in about
// 6 minutes: faults none and pause-client, scenarios K1-W and R1".
func (q QuickMatrix) String() string {
	return fmt.Sprintf("a first look in about %d minutes: faults %s, scenarios %s",
		int(q.About.Round(time.Minute)/time.Minute), prose.And(q.Faults, "nothing"), prose.And(q.Scenarios, "nothing"))
}
