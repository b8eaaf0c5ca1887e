// Package scenarios embeds the shipped scenario files, so `locktest compare` can play them from
// any directory. The files stay the documentation: read them, copy them, write your own.
package scenarios

import (
	"embed"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/locktest/locktest/scenario"
)

//go:embed *.yaml
var files embed.FS

// Names lists the shipped scenarios' names (K1, K1-F, ...) in file order.
func Names() []string {
	var names []string
	for _, f := range list() {
		if sc, err := parse(f); err == nil {
			names = append(names, sc.Name)
		}
	}
	return names
}

// Find returns the scenario named ref (a shipped scenario's name, case-insensitive, or its file
// name without .yaml) or, failing that, the scenario in the file at path ref. file says where it
// came from.
func Find(ref string) (sc *scenario.Scenario, file string, err error) {
	for _, f := range list() {
		s, err := parse(f)
		if err != nil {
			return nil, "", fmt.Errorf("shipped scenario %s: %w", f, err)
		}
		if strings.EqualFold(s.Name, ref) || strings.TrimSuffix(f, ".yaml") == ref {
			return s, "scenarios/" + f, nil
		}
	}
	if _, statErr := os.Stat(ref); statErr != nil {
		return nil, "", fmt.Errorf("no shipped scenario named %q (there are %s) and no such file", ref, strings.Join(Names(), ", "))
	}
	s, err := scenario.Load(ref)
	return s, ref, err
}

func list() []string {
	entries, _ := files.ReadDir(".")
	var out []string
	for _, e := range entries {
		if path.Ext(e.Name()) == ".yaml" {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func parse(name string) (*scenario.Scenario, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return scenario.Parse(b)
}
