package named

import (
	"strings"
	"testing"
)

type thing struct{ name string }

func TestFind(t *testing.T) {
	list := []thing{{"a"}, {"b"}}
	nameOf := func(x thing) string { return x.name }
	if got, err := Find(list, nameOf, "b", "thing"); err != nil || got.name != "b" {
		t.Errorf("Find b = %v, %v", got, err)
	}
	_, err := Find(list, nameOf, "c", "thing")
	if err == nil || err.Error() != `unknown thing "c" (choose from: a, b)` {
		t.Errorf("Find c: %v", err)
	}
	if got := strings.Join(Names(list, nameOf), ","); got != "a,b" {
		t.Errorf("Names = %q", got)
	}
}
