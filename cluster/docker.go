// Package cluster starts, describes and removes the server containers of a run.
//
// Every container and network it creates carries the label LabelProject, the run's id in
// LabelRun and the owning process (Owner: pid, start time, boot id), so `locktest clean` can find
// the leftovers of a run that died before its teardown and leave a run that is still going alone.
package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Labels put on everything locktest creates.
const (
	LabelProject = "io.locktest"      // value "true"
	LabelRun     = "io.locktest.run"  // the run id
	LabelRole    = "io.locktest.role" // "lock" or "storage"
)

// ErrNoDocker means the Docker engine could not be reached.
var ErrNoDocker = errors.New("cannot reach the Docker engine")

// Engine is the container engine the nodes run on. It is the one place that holds Docker's API
// client, so that another provider (e.g. Kubernetes) can stand in for it above this package.
type Engine struct{ api *client.Client }

// Connect returns a client for the local Docker engine and checks that it answers.
func Connect(ctx context.Context) (*Engine, error) {
	// The API version is negotiated with the engine on the first request (the client's default).
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("%w at %s (is the daemon running, and may this user use it?): %v", ErrNoDocker, cli.DaemonHost(), err)
	}
	return &Engine{api: cli}, nil
}

// Close releases the connection to the engine.
func (e *Engine) Close() error { return e.api.Close() }

// Exec runs cmd inside the container and returns its combined output; a non-zero exit status
// is an error that includes the output.
func (e *Engine) Exec(ctx context.Context, containerID string, cmd ...string) (string, error) {
	ex, err := e.api.ExecCreate(ctx, containerID, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", fmt.Errorf("exec %q in %s: %w", strings.Join(cmd, " "), short(containerID), err)
	}
	att, err := e.api.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return "", fmt.Errorf("exec %q in %s: %w", strings.Join(cmd, " "), short(containerID), err)
	}
	defer att.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil {
		return out.String(), fmt.Errorf("exec %q in %s: read output: %w", strings.Join(cmd, " "), short(containerID), err)
	}
	insp, err := e.api.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return out.String(), fmt.Errorf("exec %q in %s: %w", strings.Join(cmd, " "), short(containerID), err)
	}
	if insp.ExitCode != 0 {
		return out.String(), fmt.Errorf("exec %q in %s: exit %d: %s", strings.Join(cmd, " "), short(containerID), insp.ExitCode, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// Signal sends a signal (e.g. "STOP", "CONT", "KILL") to the container's main process.
func (e *Engine) Signal(ctx context.Context, containerID, signal string) error {
	if _, err := e.api.ContainerKill(ctx, containerID, client.ContainerKillOptions{Signal: signal}); err != nil {
		return fmt.Errorf("signal %s to %s: %w", signal, short(containerID), err)
	}
	return nil
}

// Start starts a stopped container again (after a kill), keeping its ports and filesystem.
func (e *Engine) Start(ctx context.Context, containerID string) error {
	if _, err := e.api.ContainerStart(ctx, containerID, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", short(containerID), err)
	}
	return nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

var tcOnce sync.Once

// configureTestcontainers makes testcontainers-go safe on these machines without the user setting
// anything:
//   - It must never send traffic to the address it guesses for the Docker host. Inside a container
//     (or anywhere with /.dockerenv) it reports the default gateway, which is not this machine.
//     Ports are published on 127.0.0.1, so that is the host.
//   - Ryuk, its reaper, needs an image from a registry, which may be unreachable. locktest labels
//     everything and removes it itself (teardown on every exit path, plus `locktest clean`).
//
// A value the user did set is respected.
func configureTestcontainers() {
	tcOnce.Do(func() {
		setDefaultEnv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
		setDefaultEnv("TESTCONTAINERS_RYUK_DISABLED", "true")
		// Container-level messages go through Spec.Log; the rest is noise on a user's terminal.
		tclog.SetDefault(tclog.NewNoopLogger())
	})
}

func setDefaultEnv(key, value string) {
	if _, ok := os.LookupEnv(key); !ok {
		os.Setenv(key, value)
	}
}
