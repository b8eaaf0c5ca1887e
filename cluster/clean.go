package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"

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
	// Stuck are the networks of dead runs that the engine would not remove; see removeNetwork.
	Stuck []StuckNetwork
}

// StuckNetwork is a dead run's network left in place because something else still holds it.
type StuckNetwork struct {
	Name string
	// Why names what holds it ("in use by container web-1") or what the engine said.
	Why string
}

// LiveRun is a run Clean left alone because its owner is (or may be) still running.
type LiveRun struct {
	RunID string
	// Why names the owner ("pid 1234") or says why it cannot be checked.
	Why string
}

// Clean removes the containers and networks of locktest's runs (their run label) whose owner process
// is gone (see Host.Alive), or every one with opts.All; only those of one run with opts.RunID. It
// is how the leftovers of a run that died before its teardown are removed, without touching a run
// that is still going.
func Clean(ctx context.Context, e *Engine, opts CleanOptions) (CleanResult, error) {
	host := opts.Host
	if host == nil {
		h := ThisHost()
		host = &h
	}
	// A run's containers and networks carry the run label; the project label alone is not enough,
	// because containers inherit it from the images locktest builds, so one a user started by hand
	// from such an image would carry it too.
	f := client.Filters{}.Add("label", LabelProject+"=true").Add("label", LabelRun)
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
	ctrs, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return res, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range ctrs.Items {
		if keep(c.Labels) {
			res.Kept.Containers++
			continue
		}
		// Force also kills a SIGSTOPped or running container; volumes are anonymous and go with it.
		if _, err := e.api.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
			continue
		}
		res.Removed.Containers++
	}
	nets, err := e.api.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range nets.Items {
		if keep(n.Labels) {
			res.Kept.Networks++
			continue
		}
		if why, err := e.removeNetwork(ctx, n.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		} else if why != "" {
			res.Stuck = append(res.Stuck, StuckNetwork{Name: n.Name, Why: why})
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

// RunLeftovers counts what run runID still has on the engine: its containers (stopped ones too)
// and its networks. Tests use it to check that a run removed everything it made.
func (e *Engine) RunLeftovers(ctx context.Context, runID string) (Leftovers, error) {
	f := client.Filters{}.Add("label", LabelRun+"="+runID)
	ctrs, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return Leftovers{}, err
	}
	nets, err := e.api.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return Leftovers{}, err
	}
	return Leftovers{Containers: len(ctrs.Items), Networks: len(nets.Items)}, nil
}

// RunsOwnedBy returns the ids of the runs whose containers process pid owns (LabelOwnerPID), in
// order: those with a running container, or with all those with any container. Tests use it to
// find their own runs among others' on a shared engine.
func (e *Engine) RunsOwnedBy(ctx context.Context, pid int, all bool) ([]string, error) {
	f := client.Filters{}.Add("label", LabelOwnerPID+"="+strconv.Itoa(pid))
	ctrs, err := e.api.ContainerList(ctx, client.ContainerListOptions{All: all, Filters: f})
	if err != nil {
		return nil, err
	}
	var runs []string
	for _, c := range ctrs.Items {
		runs = append(runs, c.Labels[LabelRun])
	}
	slices.Sort(runs)
	return slices.Compact(runs), nil
}

// removeNetwork removes a dead run's network. When the engine refuses because endpoints are still
// attached, it frees what it can and tries again: an endpoint whose container no longer exists is
// a stale record the engine kept (left by an engine restarted under a running cluster) and is
// disconnected by force; a container that exists is not this dead run's (its containers were
// removed before), so the network is left to it. why is non-empty when the network stays, saying
// why; err is any other failure.
func (e *Engine) removeNetwork(ctx context.Context, id string) (why string, err error) {
	_, err = e.api.NetworkRemove(ctx, id, client.NetworkRemoveOptions{})
	if err == nil || !activeEndpoints(err) {
		return "", err
	}
	insp, ierr := e.api.NetworkInspect(ctx, id, client.NetworkInspectOptions{})
	if ierr != nil {
		return "", errors.Join(err, ierr)
	}
	var holders []string
	for key, ep := range insp.Network.Containers {
		ctr, cerr := e.api.ContainerInspect(ctx, key, client.ContainerInspectOptions{})
		switch {
		case cerr == nil:
			// Someone else's container, or one attached after the list was made: not ours to cut off.
			holders = append(holders, "container "+strings.TrimPrefix(ctr.Container.Name, "/"))
			continue
		case !cerrdefs.IsNotFound(cerr):
			return "", errors.Join(err, cerr)
		}
		target := ep.Name
		if target == "" {
			target = key
		}
		if _, derr := e.api.NetworkDisconnect(ctx, id, client.NetworkDisconnectOptions{Container: target, Force: true}); derr != nil {
			holders = append(holders, fmt.Sprintf("stale endpoint %s the engine would not drop (%v)", target, derr))
		}
	}
	if len(holders) > 0 {
		sort.Strings(holders)
		return "in use by " + strings.Join(holders, "; "), nil
	}
	if _, err := e.api.NetworkRemove(ctx, id, client.NetworkRemoveOptions{}); err != nil {
		if activeEndpoints(err) {
			// Endpoints the engine counts but does not list: only restarting the engine drops them.
			return "the engine counts endpoints on it that no container owns; restarting the Docker engine frees it", nil
		}
		return "", err
	}
	return "", nil
}

// activeEndpoints says whether the engine refused to remove a network because endpoints are still
// attached. Its status (403) is shared with other refusals (a predefined network), so the message
// tells; it has read "has active endpoints" from Docker 1.x to 28.
func activeEndpoints(err error) bool {
	return cerrdefs.IsPermissionDenied(err) && strings.Contains(err.Error(), "has active endpoints")
}
