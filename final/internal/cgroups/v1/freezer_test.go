package v1

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

// A fake freezer hierarchy: a plain file reads back what was written, as
// the kernel's freezer.state does once the change is complete.
func TestFreezeThawFake(t *testing.T) {
	mnt := t.TempDir()
	dir := filepath.Join(mnt, "minibox", "c1")
	assert.NilError(t, os.MkdirAll(dir, 0o755))
	state := filepath.Join(dir, "freezer.state")
	assert.NilError(t, os.WriteFile(state, []byte("THAWED\n"), 0o644))
	m := Load(map[string]string{"freezer": mnt}, "/minibox/c1")

	assert.NilError(t, m.Freeze())
	got, err := os.ReadFile(state)
	assert.NilError(t, err)
	assert.Equal(t, string(got), "FROZEN")
	assert.NilError(t, m.Thaw())
	got, err = os.ReadFile(state)
	assert.NilError(t, err)
	assert.Equal(t, string(got), "THAWED")
}

func TestFreezeWithoutFreezer(t *testing.T) {
	m := Load(map[string]string{}, "/minibox/c1")
	assert.Error(t, m.Freeze(), "cgroup v1 freezer is not mounted")
}
