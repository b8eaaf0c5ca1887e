package workload

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/locktest/locktest/history"
)

// The coordinator's side of a run keeps nothing per record: a worker's events, read, written to
// the history and observed (holders, live counts), leave the live heap where it was over 600,000
// increments' worth (3.6M events; an hour of redis-single is about ten million), so a long run's
// coordinator stays flat (issue 11). Three bits kept per event would show.
func TestCoordinatorMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 3.6M events through the coordinator's path")
	}
	hw, err := history.Create(filepath.Join(t.TempDir(), "history.lkh"))
	if err != nil {
		t.Fatal(err)
	}
	defer hw.Close()
	w := &Workload{procs: make([]*proc, 5), holders: map[int]bool{}}
	w.send = func(int, Command) error { return nil }
	p := Params{History: hw, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := &counters{protocol: newBrokenOnce()}

	// A pipe per worker process, as the coordinator has.
	var (
		writers []*io.PipeWriter
		encs    []*json.Encoder
		readers sync.WaitGroup
	)
	for n := range 5 {
		pr, pw := io.Pipe()
		writers, encs = append(writers, pw), append(encs, json.NewEncoder(pw))
		readers.Go(func() {
			if err := readEvents(pr, n, p, c, w.observe); err != nil {
				t.Error(err)
			}
		})
		if err := encs[n].Encode(Event{Kind: EvReady, Process: n, Protocol: ProtocolVersion}); err != nil {
			t.Fatal(err)
		}
	}
	var heapAt []uint64
	send := func(op history.Op) {
		if err := encs[op.Process].Encode(Event{Kind: EvOp, Op: &op, Process: op.Process}); err != nil {
			t.Fatal(err)
		}
	}
	// The records a worker sends per increment, with fresh ids, owners and tokens every time (no
	// generator keeping a write log, whose growth would be counted against the coordinator).
	now := int64(254_223_234_862)
	for k := 1; k <= 600_000; k++ {
		proc, owner, id := k%5, fmt.Sprintf("%024x", k*7919), fmt.Sprintf("p%d-%d", k%5, k/5)
		tick := func() int64 { now += 37_000; return now }
		send(history.Op{Time: tick(), Process: proc, Client: proc, Type: history.OK, F: history.Acquire, Owner: owner, Token: uint64(k), Deadline: now + 5e9})
		send(history.Op{Time: tick(), Process: proc, Client: proc, Type: history.Invoke, F: history.Incr, ID: id})
		send(history.Op{Time: tick(), Process: proc, Client: proc, Type: history.OK, F: history.Incr, ID: id, Value: history.Int64(int64(k - 1))})
		send(history.Op{Time: tick(), Process: proc, Client: proc, Type: history.Invoke, F: history.Release, Owner: owner, Token: uint64(k)})
		send(history.Op{Time: tick(), Process: proc, Client: proc, Type: history.OK, F: history.Release, Owner: owner})
		send(history.Op{Time: tick(), Process: proc, Client: proc, Type: history.Invoke, F: history.Acquire})
		if k%100_000 == 0 {
			heapAt = append(heapAt, liveHeap())
		}
	}
	for _, pw := range writers {
		pw.Close()
	}
	readers.Wait()
	t.Logf("%d events; live heap every 100,000 increments: %v MB", c.events.Load(), mb(heapAt))
	// What may grow: the live counts' bitset of values written, one bit per increment.
	if grew := int64(heapAt[len(heapAt)-1]) - int64(heapAt[1]); grew > 1<<20 {
		t.Errorf("the live heap grew by %.1f MB from the second sample to the last: %v MB", float64(grew)/(1<<20), mb(heapAt))
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mb(bs []uint64) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = fmt.Sprintf("%.1f", float64(b)/(1<<20))
	}
	return out
}
