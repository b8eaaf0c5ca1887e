package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/locktest/locktest/report"
)

func newServeCmd() *cobra.Command {
	var (
		port       int
		resultsDir string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a page on 127.0.0.1 listing the stored runs with their verdicts",
		Long: `Serves, on 127.0.0.1 only, a page listing every run under --results-dir (newest first, coloured by
verdict) with links to each run's results.json, Porcupine view and history. Stops on Ctrl-C.`,
		Example: `  locktest serve                # http://127.0.0.1:8080/
  locktest serve --port 9000 --results-dir /tmp/results`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if port < 0 || port > 65535 {
				return usageError{fmt.Errorf("--port must be 0..65535, got %d", port)}
			}
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: report.Handler(resultsDir), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.OutOrStdout(), "serving %s at http://%s/ (Ctrl-C stops)\n", resultsDir, l.Addr())
			go func() {
				<-cmd.Context().Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				srv.Shutdown(ctx)
			}()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&port, "port", 8080, "port on 127.0.0.1")
	cmd.Flags().StringVar(&resultsDir, "results-dir", "results", "directory of stored runs")
	return cmd
}
