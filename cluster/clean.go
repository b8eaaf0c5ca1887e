package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/moby/moby/client"
)

// Leftovers counts containers and networks.
type Leftovers struct {
	Containers int
	Networks   int
}

// CleanOptions says what Clean removes.
type CleanOptions struct {
	// RunID, if set, limits Clean to that run's containers and network.
	RunID string
	// All removes live runs' containers too.
	All bool
	// Host judges whether a run's owner is alive; nil is ThisHost().
	Host *Host
	_    struct{}
}

// CleanResult is what Clean removed and what it kept.
type CleanResult struct {
	Removed Leftovers
	// Kept are the containers and networks of live runs, left in place.
	Kept Leftovers
	// Live are those runs, in run id order.
	Live []LiveRun
}

// LiveRun is a run Clean left alone because its owner is (or may be) still running.
type LiveRun struct {
	RunID string
	// Why names the owner ("pid 1234") or says why it cannot be checked.
	Why string
}

// Clean removes the containers and networks carrying locktest's label whose run's owner process
// is gone (see Host.Alive), or every one with opts.All; only those of one run with opts.RunID. It
// is how the leftovers of a run that died before its teardown are removed, without touching a run
// that is still going.
func Clean(ctx context.Context, cli *client.Client, opts CleanOptions) (CleanResult, error) {
	host := opts.Host
	if host == nil {
		h := ThisHost()
		host = &h
	}
	f := client.Filters{}.Add("label", LabelProject+"=true")
	if opts.RunID != "" {
		f.Add("label", LabelRun+"="+opts.RunID)
	}
	var res CleanResult
	live := map[string]string{} // run id → why it is live
	keep := func(labels map[string]string) bool {
		if opts.All {
			return false
		}
		ok, why := host.Alive(labels)
		if ok {
			live[labels[LabelRun]] = why
		}
		return ok
	}
	var errs []error
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return res, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range ctrs.Items {
		if keep(c.Labels) {
			res.Kept.Containers++
			continue
		}
		// Force also kills a SIGSTOPped or running container; volumes are anonymous and go with it.
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
			continue
		}
		res.Removed.Containers++
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range nets.Items {
		if keep(n.Labels) {
			res.Kept.Networks++
			continue
		}
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		res.Removed.Networks++
	}
	for id, why := range live {
		res.Live = append(res.Live, LiveRun{RunID: id, Why: why})
	}
	sort.Slice(res.Live, func(i, j int) bool { return res.Live[i].RunID < res.Live[j].RunID })
	return res, errors.Join(errs...)
}
