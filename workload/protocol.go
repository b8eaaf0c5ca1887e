package workload

import (
	"time"

	"github.com/locktest/locktest/history"
	"github.com/locktest/locktest/lock"
)

// Each client is a separate OS process (locktest re-executing itself with WorkerEnv set, or the
// program --client-cmd names), so the nemesis can SIGSTOP a client for real, as a GC pause would
// stop it. The coordinator talks to a worker over its stdin (the configuration, then commands)
// and stdout (events), one JSON object per line: the protocol docs/client-protocol.md describes
// for programs in any language.

// ProtocolVersion is the version of the worker protocol: the configuration carries it, and a
// worker's first event (ready) must name it back.
const ProtocolVersion = 1

// WorkerEnv is the environment variable that makes a locktest binary (or a test binary) run as a
// worker; see MaybeRunWorker.
const WorkerEnv = "LOCKTEST_WORKER"

// Hook is a named point in a client's loop where the worker reports that it arrived and, if told
// to, waits until the coordinator lets it continue. Scenarios use hooks to make interleavings
// deterministic, e.g. "pause the holder right after it read the counter".
type Hook string

// The hook points, in loop order.
const (
	BeforeAcquire Hook = "before-acquire"
	AfterAcquire  Hook = "after-acquire"
	AfterRead     Hook = "after-read"
	BeforeWrite   Hook = "before-write"
	AfterWrite    Hook = "after-write"
	AfterRelease  Hook = "after-release"
)

// Hooks lists every hook point in loop order.
var Hooks = []Hook{BeforeAcquire, AfterAcquire, AfterRead, BeforeWrite, AfterWrite, AfterRelease}

// WorkerConfig is the first line a worker reads.
type WorkerConfig struct {
	// Protocol is ProtocolVersion.
	Protocol  int          `json:"protocol"`
	Process   int          `json:"process"`
	Processes int          `json:"processes"` // a client id advances by this after an info op
	Backend   lock.Backend `json:"backend"`
	LockAddrs []string     `json:"lock_addrs"`
	// Dial maps addresses the lock servers give out to the addresses to dial (see lock.Config).
	Dial        map[string]string `json:"dial,omitempty"`
	TTL         time.Duration     `json:"ttl"`
	NodeTimeout time.Duration     `json:"node_timeout"`
	StorageAddr string            `json:"storage_addr"`
	// Fencing says whether the storage checks the lease's token on reads and writes.
	Fencing Fencing `json:"fencing,omitempty"`
	// StorageTimeout bounds one storage command.
	StorageTimeout time.Duration `json:"storage_timeout"`
	// AcquireTimeout bounds one acquisition attempt loop.
	AcquireTimeout time.Duration `json:"acquire_timeout"`
	// Think is how long the client rests after each release, before it tries to acquire again: a
	// slower, more realistic pace, and short histories for long runs.
	Think time.Duration `json:"think,omitempty"`
	// WaitAt lists hooks where the worker waits for a Continue command from the start.
	WaitAt []Hook `json:"wait_at,omitempty"`
	// Client is how the client uses the lock beyond the plain loop (lease check, work,
	// extension).
	Client Client `json:"client,omitzero"`
	// Seed seeds what the worker draws (each increment's work), with the process number.
	Seed int64 `json:"seed,omitempty"`
}

// CommandKind names a coordinator→worker command.
type CommandKind string

const (
	// CmdStop asks the worker to finish its current iteration and exit.
	CmdStop CommandKind = "stop"
	// CmdContinue releases a worker waiting at Hook.
	CmdContinue CommandKind = "continue"
	// CmdWaitAt replaces the set of hooks where the worker waits.
	CmdWaitAt CommandKind = "wait-at"
)

// Command is one coordinator→worker line.
type Command struct {
	Cmd   CommandKind `json:"cmd"`
	Hook  Hook        `json:"hook,omitempty"`
	Hooks []Hook      `json:"hooks,omitempty"`
}

// EventKind names a worker→coordinator event.
type EventKind string

const (
	// EvOp carries a history record.
	EvOp EventKind = "op"
	// EvHook says the worker waits at a hook for CmdContinue. Hooks it passes are not reported.
	EvHook EventKind = "hook"
	// EvReady says the worker is connected and about to start its loop; it is the first event,
	// and names the protocol version the worker speaks.
	EvReady EventKind = "ready"
)

// Event is one worker→coordinator line.
type Event struct {
	Kind EventKind   `json:"kind"`
	Op   *history.Op `json:"op,omitempty"`
	// For EvHook:
	Hook    Hook   `json:"hook,omitempty"`
	Time    int64  `json:"time,omitempty"`
	Process int    `json:"process"`
	Holding bool   `json:"holding,omitempty"`  // the worker believes it holds the lock
	InLease bool   `json:"in_lease,omitempty"` // ...and its lease's validity has not ended
	Token   uint64 `json:"token,omitempty"`
	Waiting bool   `json:"waiting,omitempty"` // the worker waits for CmdContinue (always, today)
	// For EvReady: the protocol version the worker speaks.
	Protocol int `json:"protocol,omitempty"`
}
