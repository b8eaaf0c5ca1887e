package report

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/locktest/locktest/checker"
)

func TestServeListsRuns(t *testing.T) {
	base := t.TempDir()
	for name, v := range map[string]checker.Validity{"redlock/20261127T100000.000": checker.Valid, "nolock/20261127T110000.000": checker.Invalid} {
		dir := filepath.Join(base, name)
		os.MkdirAll(dir, 0o755)
		WriteJSON(filepath.Join(dir, ResultsFile), &Results{Result: &checker.Result{Valid: v}, Backend: strings.Split(name, "/")[0]})
		os.WriteFile(filepath.Join(dir, HistoryFile), []byte("{}\n"), 0o644)
	}
	PointLatest(base, filepath.Join(base, "nolock/20261127T110000.000"))
	srv := httptest.NewServer(Handler(base))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, page := get("/")
	if code != 200 || strings.Count(page, `<tr class="`) != 2 || !strings.Contains(page, `class="invalid"`) {
		t.Fatalf("index (%d) should list the two runs once each, newest first:\n%s", code, page)
	}
	if strings.Index(page, "nolock/") > strings.Index(page, "redlock/") {
		t.Error("runs not newest first")
	}
	if code, body := get("/files/redlock/20261127T100000.000/history.jsonl"); code != 200 || body != "{}\n" {
		t.Errorf("file: %d %q", code, body)
	}
}
