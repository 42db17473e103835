package initproc

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// TestLookPath: the program is found as execvp(3) would, and a failure
// carries docker's exit status: 127 not found, 126 not executable.
func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "prog")
	assert.NilError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))
	plain := filepath.Join(dir, "data")
	assert.NilError(t, os.WriteFile(plain, nil, 0o644))
	other := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(other, "data"), nil, 0o644))
	env := []string{"PATH=" + other + ":" + dir}

	for _, tc := range []struct {
		file string
		want string
		code int
	}{
		{exe, exe, 0},
		{"prog", exe, 0},
		{"missing", "", 127},
		{filepath.Join(dir, "missing"), "", 127},
		{plain, "", 126},
		{dir, "", 126},
		{"data", "", 126}, // found, but nowhere executable
	} {
		got, err := lookPath(tc.file, env)
		if tc.code == 0 {
			assert.Check(t, err == nil && got == tc.want, "%s: got %q, %v", tc.file, got, err)
			continue
		}
		var ce *codeError
		assert.Check(t, errors.As(err, &ce) && ce.code == tc.code, "%s: got %v, want exit %d", tc.file, err, tc.code)
	}
}

func TestExecCode(t *testing.T) {
	assert.Equal(t, execCode(unix.ENOENT), 127)
	assert.Equal(t, execCode(unix.EACCES), 126)
	assert.Equal(t, execCode(unix.ENOEXEC), 126)
}
