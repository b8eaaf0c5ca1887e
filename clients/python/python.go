// Package python ships the Python client (locktest_client.py: redis-py's own Lock under the worker
// protocol of docs/client-protocol.md) inside the locktest binary, so that backend redis-py runs
// from any directory. It runs under Debian's python3 with python3-redis (redis-py 4.3).
package python

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed locktest_client.py
var script []byte

// Interpreter is the Python the client runs under: Debian's, where apt-get installs python3-redis
// (a python3 earlier on PATH, such as a pyenv shim, would not see it).
const Interpreter = "/usr/bin/python3"

// ScriptName is the client's file name, in a run's directory.
const ScriptName = "locktest_client.py"

// Check says whether the client can run here: the interpreter and its redis module.
func Check() error {
	out, err := exec.Command(Interpreter, "-c", "import redis").CombinedOutput()
	if err != nil {
		return fmt.Errorf("backend redis-py runs its clients with %s and Debian's python3-redis, which this machine lacks "+
			"(apt-get install python3-redis): %v %s", Interpreter, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Command writes the client into dir (a run's directory, so the run keeps the client it ran) and
// returns the command that runs it.
func Command(dir string) ([]string, error) {
	path := filepath.Join(dir, ScriptName)
	if err := os.WriteFile(path, script, 0o644); err != nil {
		return nil, fmt.Errorf("write the Python client: %w", err)
	}
	return []string{Interpreter, path}, nil
}
