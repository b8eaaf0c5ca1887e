package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/harness"
	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/report"
	"github.com/locktest/locktest/termview"
)

func newAnalyzeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "analyze DIR",
		Short: "Re-check a stored run's history and rewrite its results",
		Long: `Reads DIR/history.lkh (or an older run's DIR/history.jsonl) again, checks it with this version's
checker, and rewrites DIR/results.json and DIR/linearizability.html. Use it after a checker
change, or on the history of a run whose harness died: a cut-short last record is tolerated, and
the run is then reported as incomplete with a verdict on the recorded prefix. Exit status as for test: a run that was
interrupted exits 130 here too, since its verdict covers only the part that ran.`,
		Example: `  locktest analyze results/latest
  locktest analyze results/redlock/20261127T150124.689`,
		Args: oneRunDir,
		RunE: func(cmd *cobra.Command, args []string) error {
			// A long history takes minutes: on a terminal, say how far the reading has got.
			progress, done := termview.ReadProgress(cmd.ErrOrStderr())
			res, err := harness.Analyze(args[0], progress)
			done()
			var corrupt *history.CorruptError
			switch {
			case errors.Is(err, harness.ErrNotARun):
				return usageError{err}
			case errors.As(err, &corrupt):
				return inputError(err) // with how to analyze the intact part, when there is one
			case err != nil:
				return err
			}
			report.PrintSummary(cmd.OutOrStdout(), res, args[0])
			return resultExit(res)
		},
	}
}
