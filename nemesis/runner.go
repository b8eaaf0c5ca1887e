package nemesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/locktest/locktest/history"
)

// Recorder receives the fault windows; *history.Writer is one.
type Recorder interface {
	Append(history.Op) error
}

// Detailer is an optional ability of a Fault: a short description of what exactly it does
// ("+10s", "SIGSTOP"), recorded with the window.
type Detailer interface {
	Detail() string
}

// healTimeout bounds one heal. Heals run on a context detached from cancellation: a Ctrl-C must
// still resume paused processes, flush rules and reset clocks.
const healTimeout = 60 * time.Second

// Nemesis injects faults, records their windows, and remembers what is active so that HealAll
// can undo everything on any path out of a run.
type Nemesis struct {
	rec Recorder
	log *slog.Logger

	mu     sync.Mutex
	seq    int
	active map[string]Fault
	// descs describes each active fault as it was injected, so ActiveFaults never calls into a
	// fault (a heal in progress may hold the fault's own lock for seconds).
	descs map[string]string
}

// New returns a Nemesis recording to rec. A nil log discards logs.
func New(rec Recorder, log *slog.Logger) *Nemesis {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Nemesis{rec: rec, log: log, active: map[string]Fault{}, descs: map[string]string{}}
}

// Inject injects f and returns the id of its window. If injecting fails, whatever part of it took
// effect is healed at once and the window is recorded as failed.
func (n *Nemesis) Inject(ctx context.Context, f Fault) (string, error) {
	n.mu.Lock()
	n.seq++
	id := fmt.Sprintf("f%d", n.seq)
	n.mu.Unlock()

	start := history.Now()
	err := f.Inject(ctx)
	// Targets are read after Inject: a fault aimed at "the holder" knows only then whom it hit.
	rec := history.Op{Time: start, Process: history.NemesisProcess, Type: history.Invoke, F: history.Nemesis,
		ID: id, Fault: string(f.Kind()), Targets: f.Targets(), Detail: detail(f)}
	n.append(rec)
	if err != nil {
		herr := f.Heal(detached(ctx))
		rec.Time, rec.Type, rec.Error = history.Now(), history.Fail, errorText(err)
		if herr != nil {
			// Part of it may still be in force: keep it for HealAll, and say we do not know.
			rec.Type, rec.Error = history.Info, errorText(err)+"; heal: "+errorText(herr)
			n.mu.Lock()
			n.active[id], n.descs[id] = f, describe(rec)
			n.mu.Unlock()
		}
		n.append(rec)
		return id, err
	}
	n.mu.Lock()
	n.active[id], n.descs[id] = f, describe(rec)
	n.mu.Unlock()
	n.log.Info("fault injected", "id", id, "kind", f.Kind(), "targets", f.Targets(), "detail", detail(f))
	return id, nil
}

// Heal heals the fault with window id and records the end of the window.
func (n *Nemesis) Heal(ctx context.Context, id string) error {
	n.mu.Lock()
	f, ok := n.active[id]
	n.mu.Unlock()
	if !ok {
		return nil
	}
	hctx, cancel := context.WithTimeout(detached(ctx), healTimeout)
	defer cancel()
	err := f.Heal(hctx)
	rec := history.Op{Time: history.Now(), Process: history.NemesisProcess, Type: history.OK, F: history.Nemesis,
		ID: id, Fault: string(f.Kind()), Targets: f.Targets()}
	if err != nil {
		// The window's end says what failed: the checker's warning about a fault left in force
		// shows this text.
		rec.Type, rec.Error = history.Info, "heal: "+errorText(err)
		n.log.Error("heal failed", "id", id, "kind", f.Kind(), "err", err)
	} else {
		n.mu.Lock()
		delete(n.active, id)
		delete(n.descs, id)
		n.mu.Unlock()
		n.log.Info("fault healed", "id", id, "kind", f.Kind())
	}
	n.append(rec)
	return err
}

// HealAll heals every active fault, in reverse order of injection, and returns what failed.
func (n *Nemesis) HealAll(ctx context.Context) error {
	n.mu.Lock()
	ids := make([]string, 0, len(n.active))
	for id := range n.active {
		ids = append(ids, id)
	}
	n.mu.Unlock()
	sort.Slice(ids, func(i, j int) bool { return windowNumber(ids[i]) > windowNumber(ids[j]) })
	var errs []error
	for _, id := range ids {
		if err := n.Heal(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// Active returns how many faults are in force.
func (n *Nemesis) Active() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.active)
}

// ActiveFaults describes the faults in force, in order of injection: kind and targets, such as
// "pause-node n3" or "partition n1,n2".
func (n *Nemesis) ActiveFaults() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	ids := make([]string, 0, len(n.descs))
	for id := range n.descs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return windowNumber(ids[i]) < windowNumber(ids[j]) })
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = n.descs[id]
	}
	return out
}

func describe(rec history.Op) string {
	if len(rec.Targets) == 0 {
		return rec.Fault
	}
	return rec.Fault + " " + strings.Join(rec.Targets, ",")
}

func (n *Nemesis) append(op history.Op) {
	if n.rec == nil {
		return
	}
	if err := n.rec.Append(op); err != nil {
		n.log.Error("recording fault window failed", "err", err)
	}
}

func detail(f Fault) string {
	if d, ok := f.(Detailer); ok {
		return d.Detail()
	}
	return ""
}

// errorText is err's message for a record. An error can have an empty message (errors.Join of
// errors that have none, a library's bare value); its record would then say a fault failed
// without a word of why, so the error's type is named instead.
func errorText(err error) string {
	if s := strings.TrimSpace(err.Error()); s != "" {
		return s
	}
	return fmt.Sprintf("%T, with an empty message", err)
}

func detached(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

func windowNumber(id string) int {
	var n int
	fmt.Sscanf(id, "f%d", &n)
	return n
}
