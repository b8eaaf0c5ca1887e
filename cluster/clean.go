package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// Leftovers counts what Clean found and removed.
type Leftovers struct {
	Containers int
	Networks   int
}

// Clean removes every container and network carrying locktest's label, or only those of one run
// when runID is not empty. It is how a run that died before its teardown is cleaned up.
func Clean(ctx context.Context, cli *client.Client, runID string) (Leftovers, error) {
	f := filters.NewArgs(filters.Arg("label", LabelProject+"=true"))
	if runID != "" {
		f.Add("label", LabelRun+"="+runID)
	}
	var left Leftovers
	var errs []error
	ctrs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return left, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range ctrs {
		// Force also kills a SIGSTOPped or running container; volumes are anonymous and go with it.
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
			continue
		}
		left.Containers++
	}
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return left, errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range nets {
		if err := cli.NetworkRemove(ctx, n.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		left.Networks++
	}
	return left, errors.Join(errs...)
}
