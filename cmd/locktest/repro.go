package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/report"
)

func newReproCmd() *cobra.Command {
	var verbose bool
	var resultsDir string
	cmd := &cobra.Command{
		Use:   "repro DIR",
		Short: "Run a stored run again with the same parameters, seed and fault schedule",
		Long: `Reads DIR/results.json and runs the same test again: same backend, clients, nodes, TTL, time
limit, timeouts, fencing, persistence and seed, hence the same random fault schedule, or the same
scenario file. The new run gets its own results directory; the summary says whether the verdict
matches the original. Exit status as for test.`,
		Example: `  locktest repro results/latest
  locktest repro results/redlock/20261127T150124.689`,
		Args: oneRunDir,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, orig, err := harness.ReproParams(args[0])
			if err != nil {
				return usageError{err}
			}
			p.ResultsDir, p.Version = resultsDir, version
			fmt.Fprintf(cmd.ErrOrStderr(), "reproducing run %s (%s, seed %d)\n", orig.RunID, orig.Backend, orig.Seed)
			view := progressView(cmd.ErrOrStderr(), &p, verbose)
			defer view.Close()
			out, err := harness.Test(cmd.Context(), p)
			view.Close()
			if err != nil {
				return err
			}
			report.PrintSummary(cmd.OutOrStdout(), out.Results, out.Dir)
			same := "the same verdict as the original"
			switch {
			case out.Results.Interrupted:
				same = fmt.Sprintf("interrupted, so not compared with the original (%s)", orig.Valid)
			case out.Results.Valid != orig.Valid:
				same = fmt.Sprintf("a different verdict: the original was %s", orig.Valid)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "  repro: %s\n", same)
			return resultExit(out.Results)
		},
	}
	cmd.Flags().StringVar(&resultsDir, "results-dir", "results", "where the new run directory is written")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "debug logs")
	return cmd
}
