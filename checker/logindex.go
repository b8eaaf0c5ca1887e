package checker

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/locktest/locktest/history"
)

// logIndex finds the storage's write-log entries by operation id in about 16 bytes per entry, so a
// streaming check can consult the log (which comes last in a history) while it reads the
// operations (docs/streaming-check.md): a map from id strings to entries would cost ten times
// that on a log of millions.
//
// Entries are numbered in log order from 0; the log is in storage order (seq 1, 2, ...).
// Worker ids ("p3-17", see history.ParseOpID) are kept as numbers per process; ids of any other
// shape (hand-made histories) go to a map. The first entry of an
// id is the one found; later entries of the same id are listed in dups.
type logIndex struct {
	values []int64 // by entry
	procs  map[uint64]*procEntries
	other  map[string]int32
	dups   []int32 // later entries of an id already in the log, in log order
	sorted bool
	// perProc is the room each process's entries get at first (see reserve).
	perProc int
	// ids names entries by number, built only when asked (an entry no increment made is a broken
	// run's story, and costs a map of the whole log).
	ids       []string
	otherDups []string // the ids of the repeated entries of other-shaped ids, in order
}

// procEntries are one process's entries: the n of each id "p<process>-<n>" and its entry.
type procEntries struct {
	ns  []uint32
	idx []int32
}

func newLogIndex() *logIndex {
	return &logIndex{procs: map[uint64]*procEntries{}, other: map[string]int32{}}
}

// maxReserve bounds what reserve takes on trust: a corrupt length must not allocate gigabytes.
// (Reserving is what keeps the index at its size: grown by appending, it is copied over and over
// and takes up to twice the room while it grows.)
const maxReserve = 1 << 27

// reserve makes room for n entries, and for each process a little more than its share of them
// when there are workers processes (the workers share the lock about evenly).
func (x *logIndex) reserve(n int64, workers int) {
	if n <= 0 || n > maxReserve || len(x.values) > 0 {
		return
	}
	x.values = make([]int64, 0, n)
	if workers > 0 {
		x.perProc = int(n/int64(workers)) * 11 / 10
	}
}

// add appends the next entry in log order.
func (x *logIndex) add(id string, value int64) {
	i := int32(len(x.values))
	x.values = append(x.values, value)
	if p, n, ok := history.ParseOpID(id); ok && n <= math.MaxUint32 {
		pe := x.procs[p]
		if pe == nil {
			pe = &procEntries{ns: make([]uint32, 0, x.perProc), idx: make([]int32, 0, x.perProc)}
			x.procs[p] = pe
		}
		pe.ns = append(pe.ns, uint32(n))
		pe.idx = append(pe.idx, i)
		return
	}
	if _, dup := x.other[id]; dup {
		x.dups = append(x.dups, i)
		x.otherDups = append(x.otherDups, id)
		return
	}
	x.other[id] = i
}

// seal sorts each process's entries by n for lookups and finds the repeated ids. A process's
// writes are applied in its order, so its entries are already sorted but for a late write.
func (x *logIndex) seal() {
	for _, pe := range x.procs {
		if !slices.IsSorted(pe.ns) {
			perm := make([]int, len(pe.ns))
			for i := range perm {
				perm[i] = i
			}
			// Stable, so the first entry of a repeated id stays first.
			slices.SortStableFunc(perm, func(a, b int) int { return cmp.Compare(pe.ns[a], pe.ns[b]) })
			ns, idx := make([]uint32, len(perm)), make([]int32, len(perm))
			for k, j := range perm {
				ns[k], idx[k] = pe.ns[j], pe.idx[j]
			}
			pe.ns, pe.idx = ns, idx
		}
		for k := 1; k < len(pe.ns); k++ {
			if pe.ns[k] == pe.ns[k-1] {
				x.dups = append(x.dups, pe.idx[k])
			}
		}
	}
	slices.Sort(x.dups)
	x.sorted = true
}

// find returns the first entry of id, or -1.
func (x *logIndex) find(id string) int32 {
	if p, n, ok := history.ParseOpID(id); ok && n <= math.MaxUint32 {
		pe := x.procs[p]
		if pe == nil {
			return -1
		}
		k, found := slices.BinarySearch(pe.ns, uint32(n))
		if !found {
			return -1
		}
		return pe.idx[k]
	}
	if i, ok := x.other[id]; ok {
		return i
	}
	return -1
}

// len is the number of entries.
func (x *logIndex) len() int { return len(x.values) }

// value is the value entry i wrote.
func (x *logIndex) value(i int32) int64 { return x.values[i] }

// id is the operation id of entry i.
func (x *logIndex) id(i int32) string {
	if x.ids == nil {
		x.ids = make([]string, len(x.values))
		for p, pe := range x.procs {
			for k, e := range pe.idx {
				x.ids[e] = fmt.Sprintf("p%d-%d", p, pe.ns[k])
			}
		}
		for id, e := range x.other {
			x.ids[e] = id
		}
		k := 0
		for _, e := range x.dups {
			if x.ids[e] == "" && k < len(x.otherDups) {
				x.ids[e] = x.otherDups[k]
				k++
			}
		}
	}
	return x.ids[i]
}
