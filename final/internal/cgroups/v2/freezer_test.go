package v2

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

func fakeCgroup(t *testing.T, events string) (*Manager, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "minibox", "c1")
	assert.NilError(t, os.MkdirAll(dir, 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0\n"), 0o644))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "cgroup.events"), []byte(events), 0o644))
	return Load(root, "/minibox/c1"), dir
}

// Freeze writes cgroup.freeze and returns once cgroup.events reports the
// cgroup frozen.
func TestFreezeFake(t *testing.T) {
	m, dir := fakeCgroup(t, "populated 1\nfrozen 1\n")
	assert.NilError(t, m.Freeze())
	got, err := os.ReadFile(filepath.Join(dir, "cgroup.freeze"))
	assert.NilError(t, err)
	assert.Equal(t, string(got), "1")
}

// A freeze the kernel never completes is an error, not a hang.
func TestFreezeNeverCompletes(t *testing.T) {
	m, _ := fakeCgroup(t, "populated 1\nfrozen 0\n")
	assert.ErrorContains(t, m.Freeze(), "freeze=1 not reached")
}

func TestThawFake(t *testing.T) {
	m, dir := fakeCgroup(t, "populated 1\nfrozen 0\n")
	assert.NilError(t, m.Thaw())
	got, err := os.ReadFile(filepath.Join(dir, "cgroup.freeze"))
	assert.NilError(t, err)
	assert.Equal(t, string(got), "0")
}
