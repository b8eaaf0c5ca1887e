package checker

// procTable maps process numbers to values: worker numbers are small (0..clients-1), so they are
// found in a slice, without a map operation per record; other numbers (the harness's and the
// nemesis's negative ones, odd hand-made ones) in a map.
type procTable[T any] struct {
	dense  []T
	set    []bool
	sparse map[int]T
}

// maxDenseProcess bounds the process numbers kept in the slice.
const maxDenseProcess = 1 << 12

func (t *procTable[T]) get(p int) (T, bool) {
	if p >= 0 && p < maxDenseProcess {
		if p < len(t.dense) && t.set[p] {
			return t.dense[p], true
		}
		var zero T
		return zero, false
	}
	v, ok := t.sparse[p]
	return v, ok
}

func (t *procTable[T]) put(p int, v T) {
	if p >= 0 && p < maxDenseProcess {
		for len(t.dense) <= p {
			var zero T
			t.dense, t.set = append(t.dense, zero), append(t.set, false)
		}
		t.dense[p], t.set[p] = v, true
		return
	}
	if t.sparse == nil {
		t.sparse = map[int]T{}
	}
	t.sparse[p] = v
}

func (t *procTable[T]) remove(p int) {
	if p >= 0 && p < maxDenseProcess {
		if p < len(t.dense) {
			var zero T
			t.dense[p], t.set[p] = zero, false
		}
		return
	}
	delete(t.sparse, p)
}
