package cgroupfs

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

// TestWrite: an existing file is overwritten; a missing one is never
// created and is named, with a hint where the kernel may lack it; a
// missing cgroup directory is a plain write error.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pids.max")
	assert.NilError(t, os.WriteFile(p, []byte("max\n"), 0o644))
	assert.NilError(t, Write(dir, "pids.max", "10"))
	got, err := os.ReadFile(p)
	assert.NilError(t, err)
	assert.Equal(t, string(got), "10")

	for _, tc := range []struct{ file, want string }{
		{"memory.swap.max", "cgroup file " + filepath.Join(dir, "memory.swap.max") + " does not exist on this kernel: swap is not accounted"},
		{"cpu.max", "does not exist on this kernel: the kernel has no CFS bandwidth control"},
		{"io.max", "cgroup file " + filepath.Join(dir, "io.max") + " does not exist on this kernel"},
	} {
		assert.ErrorContains(t, Write(dir, tc.file, "1"), tc.want)
		_, err := os.Stat(filepath.Join(dir, tc.file))
		assert.Assert(t, os.IsNotExist(err), "%s was created", tc.file)
	}
	err = Write(filepath.Join(dir, "gone"), "pids.max", "1")
	assert.ErrorContains(t, err, `write "1" to `+filepath.Join(dir, "gone", "pids.max"))
}

func TestReadPids(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cgroup.procs")
	assert.NilError(t, os.WriteFile(p, []byte("1\n42\n7\n"), 0o644))
	got, err := ReadPids(p)
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []int{1, 42, 7})
	_, err = ReadPids(filepath.Join(t.TempDir(), "none"))
	assert.Assert(t, os.IsNotExist(err))
}

// TestRemove: an empty directory goes, one already gone is no error, and
// an error other than EBUSY is returned at once.
func TestRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c1")
	assert.NilError(t, os.Mkdir(dir, 0o755))
	assert.NilError(t, Remove(dir))
	_, err := os.Stat(dir)
	assert.Assert(t, os.IsNotExist(err))
	assert.NilError(t, Remove(dir))

	full := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(full, "f"), nil, 0o644))
	assert.ErrorContains(t, Remove(full), "directory not empty")
}
