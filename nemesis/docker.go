package nemesis

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Docker is what the node faults need from the Docker engine.
type Docker interface {
	// Exec runs cmd inside the container and returns its combined output; a non-zero exit status
	// is an error that includes the output.
	Exec(ctx context.Context, containerID string, cmd ...string) (string, error)
	// Signal sends a signal (e.g. "STOP", "CONT", "KILL") to the container's main process.
	Signal(ctx context.Context, containerID, signal string) error
	// Start starts a stopped container again (after a kill), keeping its ports and filesystem.
	Start(ctx context.Context, containerID string) error
}

// NewDocker adapts a Docker API client.
func NewDocker(cli *client.Client) Docker { return engine{cli} }

type engine struct{ cli *client.Client }

func (e engine) Exec(ctx context.Context, id string, cmd ...string) (string, error) {
	ex, err := e.cli.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", fmt.Errorf("exec %q in %s: %w", strings.Join(cmd, " "), short(id), err)
	}
	att, err := e.cli.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return "", fmt.Errorf("exec %q in %s: %w", strings.Join(cmd, " "), short(id), err)
	}
	defer att.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil {
		return out.String(), fmt.Errorf("exec %q in %s: read output: %w", strings.Join(cmd, " "), short(id), err)
	}
	insp, err := e.cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return out.String(), fmt.Errorf("exec %q in %s: %w", strings.Join(cmd, " "), short(id), err)
	}
	if insp.ExitCode != 0 {
		return out.String(), fmt.Errorf("exec %q in %s: exit %d: %s", strings.Join(cmd, " "), short(id), insp.ExitCode, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

func (e engine) Signal(ctx context.Context, id, signal string) error {
	if _, err := e.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: signal}); err != nil {
		return fmt.Errorf("signal %s to %s: %w", signal, short(id), err)
	}
	return nil
}

func (e engine) Start(ctx context.Context, id string) error {
	if _, err := e.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", short(id), err)
	}
	return nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
