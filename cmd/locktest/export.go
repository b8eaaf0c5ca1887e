package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/report"
)

func newExportCmd() *cobra.Command {
	var (
		asJSONL bool
		outFile string
	)
	cmd := &cobra.Command{
		Use:   "export --jsonl RUN_DIR_OR_FILE",
		Short: "Print a run's history as JSON lines",
		Long: `Reads a run's history (RUN_DIR/history.lkh, binary, or the history.jsonl of an older run; or
a history file named directly) and writes it as JSON lines, one record per line, in the schema of
the README's history format section, to stdout or to FILE with -o. Saved as a run directory's
history.jsonl, locktest analyze reads it back. A history cut short (the harness died while
writing it) is exported up to the cut, with a note on stderr. Exits 254 when the input is not a
readable history.`,
		Example: `  locktest export --jsonl results/latest | head
  locktest export --jsonl results/latest -o /tmp/history.jsonl`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("%s takes one run directory or history file, e.g. results/latest", cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !asJSONL {
				return usageError{errors.New("say which form to export: --jsonl (JSON lines, the one there is)")}
			}
			return exportJSONL(args[0], outFile, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&asJSONL, "jsonl", false, "write JSON lines")
	cmd.Flags().StringVarP(&outFile, "output", "o", "", "write to FILE instead of stdout (replaced only when the whole history was read)")
	return cmd
}

// exportJSONL writes the history at arg (a run directory or a history file) as JSON lines to
// outFile, or to stdout when outFile is "". Input that is not a readable history is a usage error.
func exportJSONL(arg, outFile string, stdout, stderr io.Writer) error {
	path, err := historyOf(arg)
	if err != nil {
		return err
	}
	r, err := history.Open(path)
	if err != nil {
		return inputError(err)
	}
	defer r.Close()
	if outFile == "" {
		bw := bufio.NewWriterSize(stdout, 1<<16)
		n, err := copyJSONL(bw, r)
		if ferr := bw.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("write: %w", ferr)
		}
		return exported(err, r, n, path, stderr)
	}
	n, err := writeFileAtomically(outFile, func(w io.Writer) (int, error) { return copyJSONL(w, r) })
	return exported(err, r, n, path, stderr)
}

// historyOf finds the history file arg names: arg itself, or the history of the run directory arg.
func historyOf(arg string) (string, error) {
	fi, err := os.Stat(arg)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", usageError{fmt.Errorf("%s: no such run directory or history file", arg)}
	case err != nil:
		return "", err
	case !fi.IsDir():
		return arg, nil
	}
	if p := report.HistoryPath(arg); p != "" {
		return p, nil
	}
	return "", usageError{fmt.Errorf("%s has no %s (nor the %s of an older run): give a run directory such as results/latest, or a history file",
		arg, report.HistoryFile, report.LegacyHistoryFile)}
}

// copyJSONL writes every record r has to w and returns how many.
func copyJSONL(w io.Writer, r *history.Reader) (int, error) {
	jw := history.NewJSONLWriter(w)
	n := 0
	for {
		op, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, inputError(err)
		}
		if err := jw.Write(op); err != nil {
			return n, fmt.Errorf("write: %w", err)
		}
		n++
	}
}

// inputError makes a corrupt history the user's problem (exit 254), with what can be done about it.
func inputError(err error) error {
	var ce *history.CorruptError
	if !errors.As(err, &ce) {
		return err
	}
	if r := ce.Remedy(); r != "" {
		return usageError{fmt.Errorf("%v; %s", err, r)}
	}
	return usageError{err}
}

// exported says how the export ended: a history cut short is exported up to the cut, and said.
func exported(err error, r *history.Reader, n int, path string, stderr io.Writer) error {
	if err == nil && r.Truncated() {
		fmt.Fprintf(stderr, "locktest: note: %s is cut short (the harness died while writing it): exported its first %d records\n", path, n)
	}
	return err
}

// writeFileAtomically writes path through a temporary file that replaces it only if write succeeds,
// so a failed export never leaves half a history behind.
func writeFileAtomically(path string, write func(io.Writer) (int, error)) (int, error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	n, err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return n, err
}
