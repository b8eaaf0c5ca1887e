package nemesis

import (
	"fmt"
	"strconv"
	"strings"
)

// Aim says what a fault kind's targets are, and so how they are written.
type Aim int

const (
	// AimNodes: node names ("n3", "storage").
	AimNodes Aim = iota
	// AimClient: one client: "holder" (whoever holds the lock when the fault starts), "pN", or a
	// name a scenario bound with as:.
	AimClient
	// AimLinks: paths from clients to a node: "n3" (every client's path to n3) or "CLIENT:n3"
	// (one client's, CLIENT written as for AimClient but not "holder").
	AimLinks
)

// Target is one parsed target of a fault.
type Target struct {
	// Client is "" (a node, or every client's link to it), "holder", "pN", or a scenario's name
	// for a client, which the scenario player replaces with "pN" before the fault is built.
	Client string
	// Node is a node's name, for node faults and links; "" for a client target.
	Node string
}

func (t Target) String() string {
	switch {
	case t.Client == "":
		return t.Node
	case t.Node == "":
		return t.Client
	}
	return t.Client + ":" + t.Node
}

// HolderClient is the client target meaning whichever client holds the lock at injection.
const HolderClient = "holder"

// Process returns the client process a resolved client target names ("p3" is 3), or Holder.
func (t Target) Process() (int, error) {
	if t.Client == HolderClient {
		return Holder, nil
	}
	if p, ok := ProcessName(t.Client); ok {
		return p, nil
	}
	return 0, fmt.Errorf("client %q is not holder or pN (a scenario name must be bound before the fault plays)", t.Client)
}

// ProcessName parses "pN" as client process N.
func ProcessName(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "p")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// ParseTargets parses the written targets of a fault that aims at aim. Names are checked for
// form only: whether node n9 exists is for the run's Env to say.
func ParseTargets(aim Aim, written []string) ([]Target, error) {
	if len(written) == 0 {
		return nil, fmt.Errorf("no targets")
	}
	out := make([]Target, len(written))
	for i, w := range written {
		w = strings.TrimSpace(w)
		if w == "" {
			return nil, fmt.Errorf("an empty target")
		}
		switch aim {
		case AimNodes:
			if strings.Contains(w, ":") {
				return nil, fmt.Errorf("target %q: want a node name such as n1", w)
			}
			out[i] = Target{Node: w}
		case AimClient:
			if len(written) != 1 || strings.Contains(w, ":") {
				return nil, fmt.Errorf("targets %v: want one client (holder, pN or a name bound with as:)", written)
			}
			out[i] = Target{Client: w}
		case AimLinks:
			c, n, ok := strings.Cut(w, ":")
			switch {
			case !ok:
				out[i] = Target{Node: w}
			case c == "" || n == "" || c == HolderClient:
				return nil, fmt.Errorf("target %q: want a node (every client's link to it) or CLIENT:node", w)
			default:
				out[i] = Target{Client: c, Node: n}
			}
		}
	}
	return out, nil
}

// WriteTargets writes targets in their written form, as ParseTargets reads them.
func WriteTargets(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}
