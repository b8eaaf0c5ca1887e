package histgen

import (
	"container/heap"
	"fmt"
	"math/rand/v2"

	"github.com/locktest/locktest/history"
)

// NoLock streams the history of a run without a lock (the nolock backend) to emit: Processes
// clients loop acquire (granted at once) → increment → release, their increments 300-700 µs long
// and overlapping all along, so the history has no point at which none is in flight; each reads
// the counter when invoked and writes what it read plus one when it completes, so updates are
// lost. Then the final read and the write log. It keeps 16 bytes per write, for the log.
func NoLock(seed int64, increments int, emit func(history.Op)) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x0f0c))
	start := int64(254_223_234_862)
	emit(history.Op{Time: start, Process: history.HarnessProcess, F: history.RunMeta, Meta: &history.Meta{
		Format: history.FormatVersion, Backend: "nolock", Clients: Processes, TTLMs: ttl / 1e6, Seed: seed,
		RunID: "20261202-180000-n0l0ck", Fencing: "none", Started: "2026-12-02T18:00:00Z", Version: "devel"}})
	type write struct {
		id    string
		value int64
	}
	var (
		counter int64
		log     []write
		q       clientQueue
		started int
	)
	for p := range Processes {
		q = append(q, &nolockClient{p: p, next: start + 1_000 + int64(p)*100_000})
	}
	heap.Init(&q)
	var last int64
	for q.Len() > 0 {
		c := q[0]
		t := max(c.next, last+1) // one record per nanosecond at most: time order is total
		last = t
		op := history.Op{Time: t, Process: c.p, Client: c.p}
		switch c.stage {
		case 0:
			if started == increments {
				heap.Pop(&q)
				continue
			}
			started++
			c.n++
			op.Type, op.F = history.Invoke, history.Acquire
			c.next = t + 2_000
		case 1:
			c.owner = fmt.Sprintf("%024x", rng.Uint64())
			op.Type, op.F, op.Owner, op.Deadline = history.OK, history.Acquire, c.owner, t+ttl
			c.next = t + 3_000
		case 2:
			c.id = fmt.Sprintf("p%d-%d", c.p, c.n)
			c.read = counter
			op.Type, op.F, op.ID = history.Invoke, history.Incr, c.id
			c.next = t + 300_000 + rng.Int64N(400_000)
		case 3:
			counter = c.read + 1
			log = append(log, write{c.id, counter})
			op.Type, op.F, op.ID, op.Value = history.OK, history.Incr, c.id, history.Int64(c.read)
			c.next = t + 2_000
		case 4:
			op.Type, op.F, op.Owner = history.Invoke, history.Release, c.owner
			c.next = t + 3_000
		case 5:
			op.Type, op.F, op.Owner = history.OK, history.Release, c.owner
			c.next = t + 5_000
		}
		c.stage = (c.stage + 1) % 6
		heap.Fix(&q, 0)
		emit(op)
	}
	n := int64(len(log))
	emit(history.Op{Time: last + 1_000_000, Process: history.HarnessProcess, Client: -1, Type: history.Invoke, F: history.Read})
	emit(history.Op{Time: last + 2_000_000, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.Read,
		Value: history.Int64(counter), LogLen: history.Int64(n)})
	for i, w := range log {
		emit(history.Op{Time: last + 3_000_000, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLog,
			ID: w.id, Value: history.Int64(w.value), Seq: int64(i + 1)})
	}
	emit(history.Op{Time: last + 3_000_000, Process: history.HarnessProcess, Client: -1, Type: history.OK, F: history.WriteLogEnd, LogLen: history.Int64(n)})
}

// nolockClient is one client of NoLock: which of its six records comes next, and when.
type nolockClient struct {
	p, n, stage int
	next        int64
	owner, id   string
	read        int64
}

// clientQueue orders the clients by their next record.
type clientQueue []*nolockClient

func (q clientQueue) Len() int { return len(q) }
func (q clientQueue) Less(i, j int) bool {
	return q[i].next < q[j].next || q[i].next == q[j].next && q[i].p < q[j].p
}
func (q clientQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *clientQueue) Push(x any)   { *q = append(*q, x.(*nolockClient)) }
func (q *clientQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}
