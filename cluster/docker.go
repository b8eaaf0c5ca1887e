// Package cluster starts, describes and removes the server containers of a run.
//
// Every container and network it creates carries the label LabelProject, the run's id in
// LabelRun and the owning process (Owner: pid, start time, boot id), so `locktest clean` can find
// the leftovers of a run that died before its teardown and leave a run that is still going alone.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

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

// Connect returns a client for the local Docker engine and checks that it answers.
func Connect(ctx context.Context) (*client.Client, error) {
	// The API version is negotiated with the engine on the first request (the client's default).
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("%w at %s (is the daemon running, and may this user use it?): %v", ErrNoDocker, cli.DaemonHost(), err)
	}
	return cli, nil
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
