package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/cluster"
)

func newCleanCmd() *cobra.Command {
	var (
		runID  string
		images bool
	)
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove containers and networks left behind by runs that died before their teardown",
		Long: `Removes every container and network labelled io.locktest=true (or only one run's, with --run).
A run removes its own containers on every normal exit path, including Ctrl-C; this is for the
rest (a killed harness, a crashed machine).`,
		Example: `  locktest clean
  locktest clean --run 20261127-150405-a1b2c3
  locktest clean --images   # also the images locktest built`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cli, err := cluster.Connect(cmd.Context())
			if err != nil {
				return err
			}
			defer cli.Close()
			left, err := cluster.Clean(cmd.Context(), cli, runID)
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d container(s) and %d network(s)\n", left.Containers, left.Networks)
			if err != nil || !images {
				return err
			}
			n, err := cluster.RemoveImages(cmd.Context(), cli)
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d image(s); they are rebuilt on the next run\n", n)
			return err
		},
	}
	cmd.Flags().StringVar(&runID, "run", "", "only this run id (default: every locktest run)")
	cmd.Flags().BoolVar(&images, "images", false, "also remove the images locktest built (not the base image)")
	return cmd
}
