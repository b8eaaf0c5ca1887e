package images

import (
	"archive/tar"
	"io"
	"strings"
	"testing"
)

func TestTagIsStableAndContentDerived(t *testing.T) {
	a, err := Redis.Tag()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Redis.Tag()
	if a != b || !strings.HasPrefix(a, "locktest/redis:") || len(a) != len("locktest/redis:")+12 {
		t.Fatalf("tags %q, %q: want one stable locktest/redis:<12 hex>", a, b)
	}
	// Same files under another repository name get the same content hash.
	other := Image{Repository: "x/y", Dir: Redis.Dir}
	ot, _ := other.Tag()
	if strings.TrimPrefix(ot, "x/y:") != strings.TrimPrefix(a, "locktest/redis:") {
		t.Errorf("hash depends on the repository name: %q vs %q", ot, a)
	}
}

func TestContextHasDockerfile(t *testing.T) {
	buf, err := Redis.Context()
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(buf)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "Dockerfile" {
			found = true
		}
	}
	if !found {
		t.Error("build context has no Dockerfile at its root")
	}
}

func TestMissingContextFails(t *testing.T) {
	if _, err := (Image{Repository: "x", Dir: "nope"}).Tag(); err == nil {
		t.Error("a missing build context gave a tag")
	}
}
