package report

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/locktest/locktest/checker"
	"github.com/locktest/locktest/internal/fixtures"
)

// The run page of every real recorded history (the checker's fixtures: N0, K1, K1-F, E1, R1),
// read in file order as a run's file is: it says the checker's verdict, draws the holders, and
// has a close-up of the first overlap exactly when holders overlapped.
func TestRunPageOfRealHistories(t *testing.T) {
	paths, err := fixtures.Paths(filepath.Join("..", "checker", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		t.Run(fixtures.Name(path), func(t *testing.T) {
			ops, err := fixtures.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			r := results(ops)
			p := writePage(t, t.TempDir(), r, ops)
			banners := p.find(func(n *html.Node) bool { return attr(n, "id") == "verdict" })
			if len(banners) != 1 || !strings.Contains(textOf(banners[0]), strings.ToUpper(r.Valid.String())) {
				t.Fatalf("the banner does not say %s", strings.ToUpper(r.Valid.String()))
			}
			if !strings.Contains(p.raw, "lock holders over the whole run") {
				t.Errorf("no holder timeline")
			}
			if got, want := strings.Contains(p.raw, `id="zoom-overlap"`), r.Anomalies.Overlaps > 0; got != want {
				t.Errorf("close-up of the first overlap shown: %v, want %v (%d overlaps)", got, want, r.Anomalies.Overlaps)
			}
			var holds int64
			if err := checker.ScanHolds(checker.Records(ops), func(*checker.Hold, bool) { holds++ }); err != nil {
				t.Fatal(err)
			}
			if holds != r.Ops.AcquireOK {
				t.Errorf("%d holds drawn, %d acquisitions succeeded", holds, r.Ops.AcquireOK)
			}
		})
	}
}
