// Package nemesis breaks the world on purpose and always heals it afterwards.
//
// A fault is a named value with an Inject and a Heal. Heal is idempotent and undoes exactly what
// Inject did; it runs on a context detached from cancellation, so a Ctrl-C still heals. Every
// fault window is recorded in the history (kind, targets, start, end) so the checker and the
// report can show what was broken when.
package nemesis

import "context"

// Fault is one fault on chosen targets, ready to inject.
type Fault interface {
	// Kind is the fault's family, e.g. "partition" or "clock".
	Kind() Kind
	// Targets names what the fault acts on (node names such as "n3", or "p2" for a client process).
	Targets() []string
	// Inject breaks the targets. On error it must leave nothing half-broken that Heal cannot undo.
	Inject(ctx context.Context) error
	// Heal undoes exactly what Inject did. It is idempotent and safe to call without Inject.
	Heal(ctx context.Context) error
}

// Kind names a family of faults.
type Kind string

// The fault kinds.
const (
	Partition   Kind = "partition"
	PauseNode   Kind = "pause-node"
	PauseClient Kind = "pause-client"
	Clock       Kind = "clock"
	Kill        Kind = "kill"
	Delay       Kind = "delay"
	Cut         Kind = "cut"
)
