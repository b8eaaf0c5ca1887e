package compare

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/locktest/locktest/config"
	"github.com/locktest/locktest/scenarios"
)

// Shard is one of N parts of a comparison (locktest compare --shard K/N), counted from 1, so that
// CI jobs on several machines can share a matrix and `compare merge` can join their results. The
// zero value is the whole comparison.
type Shard struct {
	K int `json:"k"`
	N int `json:"n"`
}

// ParseShard reads "K/N".
func ParseShard(s string) (Shard, error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, errK := strconv.Atoi(strings.TrimSpace(ks))
	n, errN := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || errK != nil || errN != nil || n < 1 || k < 1 || k > n {
		return Shard{}, fmt.Errorf("shard %q: want K/N with 1 ≤ K ≤ N, e.g. 2/3 for the second of three", s)
	}
	return Shard{K: k, N: n}, nil
}

// Whole says whether s is the whole comparison (no --shard, or 1/1).
func (s Shard) Whole() bool { return s.N <= 1 }

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

// PlanKey is the whole comparison a shard belongs to: everything that decides which cells and
// scenarios run and how. Shards merge only when their keys are equal.
type PlanKey struct {
	Version string `json:"version"`
	// Config is the base of every cell (its backend, fencing, faults and seed are set per cell
	// from these and Config.Seed).
	Config        config.Run `json:"config"`
	Runs          int        `json:"runs"`
	ReuseClusters bool       `json:"reuse_clusters"`
	Faults        []string   `json:"faults"`
	Cells         []Cell     `json:"cells"`
	Skipped       []Skip     `json:"skipped"`
	Scenarios     []string   `json:"scenarios"`
}

// ShardInfo is what a shard's matrix.json says about the split.
type ShardInfo struct {
	Shard
	// Plan is the whole comparison.
	Plan PlanKey `json:"plan"`
	// Cells and Scenarios are this shard's share of it.
	Cells     []Cell   `json:"cells"`
	Scenarios []string `json:"scenarios"`
}

// cellOverhead is about how long a run takes beyond its time limit: cluster start, teardown, check.
const cellOverhead = 5 * time.Second

// shardOf returns the cells (with their positions in the whole plan, which their seeds come from)
// and the scenarios that shard s of the whole comparison runs.
func shardOf(plan Plan, runs int, limit time.Duration, refs []string, s Shard) (Plan, []string) {
	if s.Whole() {
		return plan, refs
	}
	cellCost := make([]time.Duration, len(plan.Cells))
	for i := range cellCost {
		cellCost[i] = time.Duration(max(runs, 1)) * (limit + cellOverhead)
	}
	scenarioCost := make([]time.Duration, len(refs))
	for i, ref := range refs {
		scenarioCost[i] = limit + cellOverhead
		if sc, _, err := scenarios.Find(ref); err == nil && sc.TimeLimit > 0 {
			scenarioCost[i] = time.Duration(sc.TimeLimit) + cellOverhead
		}
	}
	cellShard, scenarioShard := split(cellCost, scenarioCost, s.N)
	part := Plan{Faults: plan.Faults, Skipped: plan.Skipped}
	for i, k := range cellShard {
		if k == s.K-1 {
			part.Cells = append(part.Cells, plan.Cells[i])
			part.Positions = append(part.Positions, plan.position(i))
		}
	}
	var mine []string
	for i, k := range scenarioShard {
		if k == s.K-1 {
			mine = append(mine, refs[i])
		}
	}
	return part, mine
}

// split assigns cells and scenarios to n shards (0-based), balanced by their expected durations.
// The scenarios are placed first, longest first, each on the least loaded shard; then the cells,
// in plan order, fill the shards one after the other up to an equal share of the whole. Cells stay
// contiguous, so the cells of one backend mostly share a shard and the cluster it starts. It
// depends on nothing but its arguments: every shard of a comparison computes the same split.
func split(cellCost, scenarioCost []time.Duration, n int) (cellShard, scenarioShard []int) {
	load := make([]time.Duration, n)
	var total time.Duration
	order := make([]int, len(scenarioCost))
	for i := range order {
		order[i] = i
		total += scenarioCost[i]
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scenarioCost[b], scenarioCost[a]) })
	scenarioShard = make([]int, len(scenarioCost))
	for _, j := range order {
		k := 0
		for i := range load {
			if load[i] < load[k] {
				k = i
			}
		}
		scenarioShard[j] = k
		load[k] += scenarioCost[j]
	}
	for _, c := range cellCost {
		total += c
	}
	share := total / time.Duration(n)
	cellShard = make([]int, len(cellCost))
	k := 0
	for i, c := range cellCost {
		// Shard k is full when this cell would take it past its share by more than half the cell.
		for k < n-1 && load[k]+c/2 > share {
			k++
		}
		cellShard[i] = k
		load[k] += c
	}
	return cellShard, scenarioShard
}
