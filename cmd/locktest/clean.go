package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/cluster"
)

func newCleanCmd() *cobra.Command {
	var (
		runID  string
		all    bool
		images bool
	)
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove containers and networks left behind by runs that died before their teardown",
		Long: `Removes the containers and networks labelled io.locktest=true whose run has ended without
removing them: their owner process (recorded in labels: pid, its start time, the host's boot id)
is gone, or they were made by a locktest too old to record one. Runs still going are left alone
and listed, so clean is safe beside other runs on the same Docker engine. --all removes every
locktest container and network, live runs included; --run limits clean to one run.
A run removes its own containers on every normal exit path, including Ctrl-C; this is for the
rest (a killed harness, a crashed machine).`,
		Example: `  locktest clean
  locktest clean --run 20261127-150405-a1b2c3
  locktest clean --all      # also the containers of runs that are still going
  locktest clean --images   # also the images locktest built`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, err := cluster.Connect(cmd.Context())
			if err != nil {
				return err
			}
			defer eng.Close()
			res, err := cluster.Clean(cmd.Context(), eng, cluster.CleanOptions{RunID: runID, All: all})
			printClean(cmd.OutOrStdout(), res)
			if err != nil || !images {
				return err
			}
			if len(res.Live) > 0 {
				// A live run (or the next cell of a live compare) would have to rebuild them.
				fmt.Fprintln(cmd.OutOrStdout(), "images kept: live runs use them (--all removes both)")
				return nil
			}
			n, err := cluster.RemoveImages(cmd.Context(), eng)
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d image(s); they are rebuilt on the next run\n", n)
			return err
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "only this run id (default: every locktest run)")
	cmd.Flags().BoolVar(&all, "all", false, "also remove the containers and networks of runs that are still going")
	cmd.Flags().BoolVar(&images, "images", false, "also remove the images locktest built (not the base image)")
	return cmd
}

// printClean says what clean removed and what it kept, naming the live runs' owners:
//
//	removed 4 container(s) and 1 network(s)
//	left network 0432… of a dead run: in use by container web-1
//	kept 6 container(s) and 1 network(s) of 1 live run (pid 1234); --all removes them too
func printClean(w io.Writer, res cluster.CleanResult) {
	fmt.Fprintf(w, "removed %d container(s) and %d network(s)\n", res.Removed.Containers, res.Removed.Networks)
	for _, n := range res.Stuck {
		fmt.Fprintf(w, "left network %s of a dead run: %s\n", n.Name, n.Why)
	}
	if len(res.Live) == 0 {
		return
	}
	runs := "run"
	if len(res.Live) > 1 {
		runs = "runs"
	}
	whys := make([]string, len(res.Live))
	for i, r := range res.Live {
		whys[i] = r.Why
		if len(res.Live) > 1 {
			whys[i] = r.RunID + ": " + r.Why
		}
	}
	fmt.Fprintf(w, "kept %d container(s) and %d network(s) of %d live %s (%s); --all removes them too\n",
		res.Kept.Containers, res.Kept.Networks, len(res.Live), runs, strings.Join(whys, "; "))
}
