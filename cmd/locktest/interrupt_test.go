package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/locktest/locktest/cluster"
	"github.com/locktest/locktest/cluster/clustertest"
	"github.com/locktest/locktest/report"
)

// syncBuffer is a bytes.Buffer a child process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The two terminals, for real: a run is going; `locktest clean` in another process keeps
// its containers; Ctrl-C (SIGINT to the run's process group, as a terminal sends it) ends the run
// with its partial verdict written, INTERRUPTED in the summary, and exit status 130.
func TestInterruptedRunExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("builds locktest and starts containers")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "locktest")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	results := filepath.Join(dir, "results")
	run := exec.Command(bin, "test", "--backend", "nolock", "--clients", "2", "--time-limit", "30s", "--results-dir", results)
	var stdout, stderr syncBuffer
	run.Stdout, run.Stderr = &stdout, &stderr
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, which its workers join
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	var runID string
	t.Cleanup(func() {
		select {
		case <-exited:
		default: // the test failed before the run ended: kill the run's group, then its containers
			_ = syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if runID == "" {
			return
		}
		eng, err := cluster.Connect(context.Background())
		if err != nil {
			return
		}
		defer eng.Close()
		_, _ = cluster.Clean(context.Background(), eng, cluster.CleanOptions{RunID: runID, All: true})
	})

	// Wait until the clients run.
	runLine := regexp.MustCompile(`\(run ([0-9a-f-]+)\)`)
	deadline := time.Now().Add(5 * time.Minute) // a first run may build the image
	for !strings.Contains(stderr.String(), "running nolock") {
		if m := runLine.FindStringSubmatch(stderr.String()); m != nil {
			runID = m[1]
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the run ended before its clients started (%v):\n%s%s", err, stderr.String(), stdout.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the clients did not start:\n%s", stderr.String())
		}
	}
	if m := runLine.FindStringSubmatch(stderr.String()); m != nil {
		runID = m[1]
	}
	if runID == "" {
		t.Fatalf("no run id in the output:\n%s", stderr.String())
	}
	time.Sleep(2 * time.Second)

	// Another terminal: clean, limited to this run so other runs on the engine are not touched.
	out, err := exec.Command(bin, "clean", "--run", runID).CombinedOutput()
	if err != nil {
		t.Fatalf("clean: %v\n%s", err, out)
	}
	t.Logf("clean: %s", out)
	if !strings.Contains(string(out), "removed 0 container(s) and 0 network(s)") ||
		!strings.Contains(string(out), "kept 1 container(s) and 1 network(s) of 1 live run (pid ") {
		t.Errorf("clean during the run said:\n%s", out)
	}
	time.Sleep(2 * time.Second)

	if err := syscall.Kill(-run.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var code int
	select {
	case err := <-exited:
		exited <- err
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = run.ProcessState.ExitCode()
	case <-time.After(2 * time.Minute):
		t.Fatalf("the run did not end within 2 minutes of SIGINT:\n%s", stderr.String())
	}
	t.Logf("stdout:\n%s", stdout.String())
	if code != exitInterrupted {
		t.Errorf("exit status %d, want %d\nstderr:\n%s", code, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stdout.String(), "INTERRUPTED, partial verdict") {
		t.Error("the summary does not say INTERRUPTED")
	}
	b, err := os.ReadFile(filepath.Join(results, "latest", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Interrupted bool `json:"interrupted"`
		RunID       string
		Ops         struct{ OK int64 } `json:"ops"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Ops.OK == 0 {
		t.Errorf("results.json: interrupted=%v with %d ok increments, want interrupted=true after some work", res.Interrupted, res.Ops.OK)
	}
	for _, f := range []string{report.HistoryFile, report.PageFile} {
		if _, err := os.Stat(filepath.Join(results, "latest", f)); err != nil {
			t.Errorf("partial run's %s: %v", f, err)
		}
	}
	eng, err := cluster.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	clustertest.AssertNothingLeft(t, eng, runID)
}
