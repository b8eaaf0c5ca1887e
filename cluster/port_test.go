package cluster

import (
	"errors"
	"testing"
)

// A start that lost its host port to another process is tried again on another; other failures
// are not.
func TestPortTaken(t *testing.T) {
	for msg, want := range map[string]bool{
		"container start: Error response from daemon: driver failed programming external connectivity on endpoint locktest-x-n2 (c41): Bind for 127.0.0.1:42927 failed: port is already allocated": true,
		"listen tcp4 127.0.0.1:42927: bind: address already in use":     true,
		"Error response from daemon: No such image: locktest/redis:abc": false,
		"context deadline exceeded":                                     false,
	} {
		if got := portTaken(errors.New(msg)); got != want {
			t.Errorf("portTaken(%q) = %v, want %v", msg, got, want)
		}
	}
}
