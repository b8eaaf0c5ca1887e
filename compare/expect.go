package compare

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// Expectations are the verdicts a matrix must reach: backend → fencing → fault → "valid",
// "invalid" or "any". A cell without an entry is not checked. This is how a nightly job asserts
// that nothing regressed.
type Expectations map[string]map[string]map[string]string

// LoadExpectations reads an expectations file.
func LoadExpectations(path string) (Expectations, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("expectations: %w", err)
	}
	var e Expectations
	if err := yaml.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("expectations %s: %w", path, err)
	}
	for b, fs := range e {
		for f, faults := range fs {
			for fault, v := range faults {
				if v != "valid" && v != "invalid" && v != "any" {
					return nil, fmt.Errorf("expectations %s: %s/%s/%s: %q is not valid, invalid or any", path, b, f, fault, v)
				}
			}
		}
	}
	return e, nil
}

// For returns the expected verdict of c, or "" when there is none.
func (e Expectations) For(c Cell) string {
	v := e[string(c.Backend)][string(c.Fencing)][c.Fault]
	if v == "any" {
		return ""
	}
	return v
}

// Mismatch is a cell whose verdict differs from its expectation.
type Mismatch struct {
	Cell     Cell
	Expected string
	Got      string
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s: expected %s, got %s", m.Cell, m.Expected, m.Got)
}

// Check compares results with the expectations.
func (e Expectations) Check(results []CellResult) []Mismatch {
	var out []Mismatch
	for _, r := range results {
		want := e.For(r.Cell)
		if want != "" && want != r.Verdict {
			out = append(out, Mismatch{r.Cell, want, r.Verdict})
		}
	}
	return out
}
