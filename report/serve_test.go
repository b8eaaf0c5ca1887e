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
	// A run of an earlier version, whose history is JSON lines under the old name.
	old := filepath.Join(base, "redlock/20261126T100000.000")
	os.MkdirAll(old, 0o755)
	WriteJSON(filepath.Join(old, ResultsFile), &Results{Result: &checker.Result{Valid: checker.Valid}, Backend: "redlock"})
	os.WriteFile(filepath.Join(old, LegacyHistoryFile), []byte("{}\n"), 0o644)
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
	if code != 200 || strings.Count(page, `<tr class="`) != 3 || !strings.Contains(page, `class="invalid"`) {
		t.Fatalf("index (%d) should list the three runs once each, newest first:\n%s", code, page)
	}
	if strings.Index(page, "nolock/") > strings.Index(page, "redlock/") {
		t.Error("runs not newest first")
	}
	for _, f := range []string{"redlock/20261127T100000.000/" + HistoryFile, "redlock/20261126T100000.000/" + LegacyHistoryFile} {
		if !strings.Contains(page, `href="/files/`+f+`"`) {
			t.Errorf("index does not link %s", f)
		}
		if code, body := get("/files/" + f); code != 200 || body != "{}\n" {
			t.Errorf("file %s: %d %q", f, code, body)
		}
	}
}
