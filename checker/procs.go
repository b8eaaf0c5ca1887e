package checker

import (
	"slices"

	"github.com/locktest/locktest/history"
)

// maxDenseProcess bounds the process numbers kept in a plain slice. Worker numbers are small
// (0..clients-1), and a slice avoids a map operation per record, which on a history of millions
// of records is a measurable part of the whole check.
const maxDenseProcess = 1 << 12

// procRecords holds, for each worker process, the indices of its records in time order.
type procRecords struct {
	dense  [][]int32
	sparse map[int][]int32 // process numbers too large for dense
}

// newProcRecords counts each process's records in ops first, so that the lists are carved out
// of one allocation instead of growing a million times.
func newProcRecords(ops []history.Op) procRecords {
	var pr procRecords
	var dense []int32
	sparse := map[int]int32{}
	total := 0
	for i := range ops {
		switch p := ops[i].Process; {
		case p < 0:
			continue
		case p < maxDenseProcess:
			for len(dense) <= p {
				dense = append(dense, 0)
			}
			dense[p]++
		default:
			sparse[p]++
		}
		total++
	}
	backing := make([]int32, 0, total)
	carve := func(n int32) []int32 {
		s := backing[len(backing) : len(backing) : len(backing)+int(n)]
		backing = backing[:len(backing)+int(n)]
		return s
	}
	pr.dense = make([][]int32, len(dense))
	for p, n := range dense {
		pr.dense[p] = carve(n)
	}
	for p, n := range sparse {
		if pr.sparse == nil {
			pr.sparse = make(map[int][]int32, len(sparse))
		}
		pr.sparse[p] = carve(n)
	}
	return pr
}

// add appends record i to process p's list.
func (pr *procRecords) add(p int, i int32) {
	if p < maxDenseProcess {
		for len(pr.dense) <= p {
			pr.dense = append(pr.dense, nil)
		}
		pr.dense[p] = append(pr.dense[p], i)
		return
	}
	if pr.sparse == nil {
		pr.sparse = make(map[int][]int32)
	}
	pr.sparse[p] = append(pr.sparse[p], i)
}

// of returns process p's records.
func (pr *procRecords) of(p int) []int32 {
	if p >= 0 && p < len(pr.dense) {
		return pr.dense[p]
	}
	return pr.sparse[p]
}

// processes lists the processes that have records, in increasing order.
func (pr *procRecords) processes() []int {
	var ps []int
	for p, idx := range pr.dense {
		if len(idx) > 0 {
			ps = append(ps, p)
		}
	}
	for p := range pr.sparse {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// sortEach puts every process's records in order, if they are not already (the usual case:
// each process writes its own records in order, and only their interleaving varies).
func (pr *procRecords) sortEach(cmp func(a, b int32) int) {
	for _, p := range pr.processes() {
		if idx := pr.of(p); !slices.IsSortedFunc(idx, cmp) {
			slices.SortStableFunc(idx, cmp)
		}
	}
}
