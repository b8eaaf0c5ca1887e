package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/shrink"
)

func newShrinkCmd() *cobra.Command {
	var confirm int
	cmd := &cobra.Command{
		Use:   "shrink RUN",
		Short: "Shrink an INVALID random-schedule run to the smallest scenario that still breaks the lock",
		Long: `Re-runs the run stored in RUN (its recorded configuration and seed) with parts of its drawn
schedule removed: whole rounds of an exploration profile (explored.yaml) or faults of a random
schedule (schedule.json), halves first, then single ones, as delta debugging does; then with its
pauses halved. Every reduction that still shows the run's anomaly (overlaps within validity if it
had them, else the first kind it had) is kept. The result is written to RUN/shrunk.yaml as a
scenario that expects INVALID and requires that anomaly, ready for locktest test --scenario, and
played --confirm times to say how often it reproduces.

Exit 0 when the scenario is written and reproduced on every confirming play, 1 when it was not,
130 when interrupted, 254 when RUN cannot be shrunk (not a run, not INVALID, no drawn schedule).`,
		Example: `  locktest test --backend redlock --ttl 2s --time-limit 40s --nemesis-profile kleppmann --seed 3
  locktest shrink results/latest
  locktest test --scenario results/latest/shrunk.yaml`,
		Args: oneRunDir,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := shrink.Shrink(cmd.Context(), args[0], shrink.Options{Confirm: confirm, Log: cmd.ErrOrStderr(), Version: version})
			switch {
			case errors.Is(err, context.Canceled):
				return exitCode(exitInterrupted)
			case errors.Is(err, harness.ErrNotARun):
				return usageError{err}
			case err != nil && out == nil:
				return usageError{err}
			case err != nil:
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "\nshrunk %d part(s) of the schedule to %d, %d step(s), in %d re-run(s); the scenario requires %s\n",
				out.Units, out.Kept, len(out.Scenario.Steps), out.Reruns, out.Anomaly)
			fmt.Fprintf(w, "  scenario: %s\n", out.File)
			if out.Confirm > 0 {
				fmt.Fprintf(w, "  reproduced %d/%d\n", out.Confirmed, out.Confirm)
				if out.Confirmed < out.Confirm {
					return exitCode(exitInvalid)
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&confirm, "confirm", 10, "plays of the shrunk scenario at the end, to say how often it reproduces")
	return cmd
}
