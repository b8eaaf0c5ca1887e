package harness

import "github.com/locktest/locktest/workload"

// Progress is a snapshot of a run for people watching it (Params.Status).
type Progress struct {
	workload.Status
	// Phase is what the run is doing: PhaseStarting, PhaseRunning, PhaseStopping or PhaseChecking.
	Phase string
	// Faults describes the faults in force right now, kind and targets ("pause-node n3").
	Faults []string
}

// Phases of a run. Building the image, when needed, is part of PhaseStarting; its steps go to
// Params.Out.
const (
	PhaseStarting = "starting cluster"
	PhaseRunning  = "running"
	PhaseStopping = "stopping"
	PhaseChecking = "checking"
)

// status reports pr to p.Status, if set.
func (p Params) status(pr Progress) {
	if p.Status != nil {
		p.Status(pr)
	}
}
