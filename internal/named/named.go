// Package named looks values up by name in the explicit lists locktest keeps (lock drivers,
// backends, fault kinds, exploration profiles), with one form of error that lists the choices.
package named

import (
	"fmt"
	"strings"
)

// Find returns the element of list that nameOf calls name, or an error naming what was asked
// for ("backend", "fault") and listing every name of the list.
func Find[T any, N ~string](list []T, nameOf func(T) N, name N, what string) (T, error) {
	for _, x := range list {
		if nameOf(x) == name {
			return x, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("unknown %s %q (choose from: %s)", what, name, strings.Join(Names(list, nameOf), ", "))
}

// Names are the names of list's elements, in its order.
func Names[T any, N ~string](list []T, nameOf func(T) N) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = string(nameOf(x))
	}
	return out
}
