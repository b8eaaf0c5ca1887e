package lock

import "testing"

// A stray's owner is read back from its znode's path, the way abandon finds its own znodes.
func TestOwnerOfZnode(t *testing.T) {
	owner := newOwner()
	if got := ownerOf("/locktest/lock-" + owner + "-0000000042"); got != owner {
		t.Errorf("ownerOf = %q, want %q", got, owner)
	}
	// removeOwned matches the bare child names the queue lists.
	if got := ownerOf("lock-" + owner + "-0000000042"); got != owner {
		t.Errorf("ownerOf(child name) = %q, want %q", got, owner)
	}
}
