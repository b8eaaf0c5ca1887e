// Command locktest tests whether a distributed lock protects the data it guards, against real
// servers in Docker containers. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/workload"
)

// Exit codes. Scripts and CI rely on them.
const (
	exitValid   = 0   // the history is valid
	exitInvalid = 1   // an anomaly was found
	exitUnknown = 2   // the checker could not decide
	exitUsage   = 254 // bad flags or arguments
	exitError   = 255 // the harness could not run (Docker unreachable, I/O error, crash)

	// exitInterrupted: Ctrl-C or SIGTERM stopped the command (128+SIGINT, as shells report it). A
	// run cut short still writes its partial verdict, but that verdict is never an exit 0.
	exitInterrupted = 130
)

// usageError marks an error as the user's input being wrong (exit 254).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError carries a verdict's exit code out of a command.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func main() {
	// A worker is this same binary, started by the coordinator with an environment variable.
	workload.MaybeRunWorker()
	os.Exit(run(os.Args[1:]))
}

func run(args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "locktest: internal error: %v\n%s", r, debug.Stack())
			code = exitError
		}
	}()
	setMemoryLimit()
	defer startProfile()()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return exitStatus(os.Stderr, err, ctx.Err() != nil, func() string { return commandPath(root, args) })
}

// exitStatus maps what a command returned to the process's exit status, and says on w what went
// wrong. interrupted is whether a signal cancelled the command's context: an error it caused
// (a run stopped while its cluster was starting) is an interruption, not a harness failure.
// Commands report an interrupted run themselves, as exitCode(exitInterrupted) (see resultExit).
func exitStatus(w io.Writer, err error, interrupted bool, commandPath func() string) int {
	var ec exitCode
	var ue usageError
	switch {
	case err == nil:
		return exitValid
	case errors.As(err, &ec):
		if int(ec) == exitInterrupted {
			fmt.Fprintln(w, "locktest: interrupted")
		}
		return int(ec)
	case errors.As(err, &ue):
		fmt.Fprintf(w, "locktest: %v (see '%s --help')\n", ue.err, commandPath())
		return exitUsage
	case interrupted:
		fmt.Fprintf(w, "locktest: interrupted: %v\n", err)
		return exitInterrupted
	default:
		fmt.Fprintf(w, "locktest: %v\n", err)
		return exitError
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "locktest",
		Short: "Jepsen-style tests of distributed locks against real servers in containers",
		Long: `locktest answers one question with evidence: does this distributed lock protect the data it
guards, and under which faults does it stop doing so? It starts real servers in Docker
containers, runs client processes that do lock-protected increments of a counter, records every
operation and checks the history (Porcupine linearizability, mutual exclusion, lost writes).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.Args = cobra.ArbitraryArgs // so unknown commands reach RunE and exit as usage errors
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q", args[0])}
		}
		return cmd.Help()
	}
	root.AddCommand(newTestCmd(), newCompareCmd(), newAnalyzeCmd(), newReproCmd(), newExportCmd(), newShrinkCmd(), newServeCmd(), newCleanCmd(), newVersionCmd())
	return root
}

// commandPath returns the command named in args ("locktest test"), for the hint in usage errors.
func commandPath(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil {
		return c.CommandPath()
	}
	return root.CommandPath()
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

// oneRunDir accepts exactly one argument, a run directory.
func oneRunDir(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("%s takes one run directory, e.g. results/latest", cmd.CommandPath())}
	}
	return nil
}
