package main

import (
	"io"

	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/termview"
)

// progressView shows a run's progress on w and takes its narration, logs and status, so nothing
// else writes to w between two redraws. Close it before printing anything else to w or the
// summary, on every path.
func progressView(w io.Writer, p *harness.Params, verbose bool) *termview.View {
	v := termview.New(w, p.TimeLimit)
	p.Out = v
	p.Log = newLogger(v, verbose)
	p.Status = func(pr harness.Progress) { v.Update(snapshot(pr)) }
	return v
}

var phases = map[string]string{
	harness.PhaseStarting: termview.PhaseStarting,
	harness.PhaseRunning:  termview.PhaseRunning,
	harness.PhaseStopping: termview.PhaseStopping,
	harness.PhaseChecking: termview.PhaseChecking,
}

func snapshot(pr harness.Progress) termview.Snapshot {
	return termview.Snapshot{
		Phase: phases[pr.Phase], Elapsed: pr.Elapsed,
		OK: pr.IncrOK, Fail: pr.IncrFail, Info: pr.IncrInfo, Workers: pr.WorkersAlive,
		Faults:     pr.Faults,
		HoldersNow: pr.Provisional.HoldersNow, Overlaps: pr.Provisional.Overlaps, DuplicateWrites: pr.Provisional.DuplicateWrites,
	}
}
