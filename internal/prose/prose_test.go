package prose

import "testing"

func TestAnd(t *testing.T) {
	for want, items := range map[string][]string{"nothing": nil, "a": {"a"}, "a and b": {"a", "b"}, "a, b and c": {"a", "b", "c"}} {
		if got := And(items, "nothing"); got != want {
			t.Errorf("And(%q) = %q, want %q", items, got, want)
		}
	}
}
