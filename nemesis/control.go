package nemesis

import (
	"context"

	"github.com/locktest/locktest/cluster"
)

// NodeControl is what the node faults need from whatever runs the nodes: Docker here
// (*cluster.Engine), a Kubernetes provider later.
type NodeControl interface {
	// Exec runs cmd inside the container and returns its combined output; a non-zero exit status
	// is an error that includes the output.
	Exec(ctx context.Context, containerID string, cmd ...string) (string, error)
	// Signal sends a signal (e.g. "STOP", "CONT", "KILL") to the container's main process.
	Signal(ctx context.Context, containerID, signal string) error
	// Start starts a stopped container again (after a kill), keeping its ports and filesystem.
	Start(ctx context.Context, containerID string) error
}

var _ NodeControl = (*cluster.Engine)(nil)
