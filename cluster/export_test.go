package cluster

import "github.com/moby/moby/client"

// API gives this package's tests the engine's Docker client, to make and inspect what a dead run
// leaves behind. Nothing outside the package's tests may reach it.
func (e *Engine) API() *client.Client { return e.api }
