package container

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"

	"minibox.dev/final/internal/spec"
)

func TestValidID(t *testing.T) {
	for _, id := range []string{"a", "abc-1.2_x", "0123456789ab"} {
		assert.Check(t, ValidID(id) == nil, id)
	}
	for _, id := range []string{"", "-a", ".a", "a/b", "..", "a b", string(make([]byte, 129))} {
		assert.Check(t, ValidID(id) != nil, "%q should be rejected", id)
	}
}

func TestStartTimeAndAlive(t *testing.T) {
	st, err := startTime(os.Getpid())
	assert.NilError(t, err)
	assert.Assert(t, st > 0)
	assert.Check(t, alive(os.Getpid(), st))
	assert.Check(t, !alive(os.Getpid(), st+1), "a reused PID (other start time) is not our process")
	assert.Check(t, !alive(0, 0))
	assert.Check(t, !alive(1<<30, st), "no such PID")
}

// fake writes a state dir for id with the given state.
func fake(t *testing.T, root, id string, s State, fifo bool) *Container {
	t.Helper()
	dir := filepath.Join(root, id)
	assert.NilError(t, os.MkdirAll(dir, 0o711))
	s.ID = id
	c := &Container{State: s, root: root, dir: dir}
	assert.NilError(t, c.save())
	if fifo {
		assert.NilError(t, os.WriteFile(filepath.Join(dir, "exec.fifo"), nil, 0o600))
	}
	return c
}

func TestStatus(t *testing.T) {
	root := t.TempDir()
	me := os.Getpid()
	st, _ := startTime(me)
	for _, tc := range []struct {
		name string
		s    State
		fifo bool
		want specs.ContainerState
	}{
		{"creating: no pid yet, owner alive", State{Owner: me, OwnerStart: st}, false, specs.StateCreating},
		{"stopped: no pid, owner gone", State{Owner: me, OwnerStart: st + 1}, false, specs.StateStopped},
		{"created: waiting on the fifo", State{State: specs.State{Pid: me}, InitStartTime: st}, true, specs.StateCreated},
		{"running", State{State: specs.State{Pid: me}, InitStartTime: st}, false, specs.StateRunning},
		{"stopped: pid reused", State{State: specs.State{Pid: me}, InitStartTime: st + 1}, false, specs.StateStopped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fake(t, root, "c", tc.s, tc.fifo)
			defer os.RemoveAll(c.dir)
			l, err := Load(root, "c")
			assert.NilError(t, err)
			assert.Equal(t, l.Status(), tc.want)
			if tc.want == specs.StateStopped {
				assert.Equal(t, l.OCIState().Pid, 0)
			}
		})
	}
}

func TestSaveLoadList(t *testing.T) {
	root := t.TempDir()
	fake(t, root, "b", State{CgroupPath: "/minibox/b", Rootfs: "/r"}, false)
	fake(t, root, "a", State{}, false)
	assert.NilError(t, os.Mkdir(filepath.Join(root, "half-made"), 0o711)) // no state.json yet
	ents, _ := os.ReadDir(filepath.Join(root, "b"))
	assert.Equal(t, len(ents), 1, "only state.json: the temp file was renamed")
	b, err := os.ReadFile(filepath.Join(root, "b", "state.json"))
	assert.NilError(t, err)
	var raw map[string]any
	assert.NilError(t, json.Unmarshal(b, &raw))
	assert.Equal(t, raw["id"], "b")
	assert.Equal(t, raw["cgroupPath"], "/minibox/b")

	list, err := List(root)
	assert.NilError(t, err)
	assert.Equal(t, len(list), 2)
	assert.Equal(t, list[0].ID, "a")
	assert.Equal(t, list[1].Rootfs, "/r")

	_, err = Load(root, "nope")
	assert.ErrorIs(t, err, ErrNotExist)
	_, err = Load(root, "../etc")
	assert.ErrorContains(t, err, "container id")
}

// TestSweep: only auto-remove containers whose owner is gone are
// removed.
func TestSweep(t *testing.T) {
	root := t.TempDir()
	me := os.Getpid()
	st, _ := startTime(me)
	fake(t, root, "orphan", State{AutoRemove: true, Owner: me, OwnerStart: st + 1}, false)
	fake(t, root, "owned", State{AutoRemove: true, Owner: me, OwnerStart: st}, false)
	fake(t, root, "oci", State{Owner: me, OwnerStart: st + 1}, false) // created by `create`: kept until delete
	sweep(root)
	list, err := List(root)
	assert.NilError(t, err)
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	assert.DeepEqual(t, ids, []string{"oci", "owned"})
}

func TestResourcesDevices(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	// minibox run's spec already has every default: nothing is added.
	s := &specs.Spec{Linux: &specs.Linux{Resources: &specs.LinuxResources{Devices: spec.DockerDevices()}}}
	assert.DeepEqual(t, resources(s).Devices, spec.DockerDevices())
	// runc spec's "deny all": the defaults follow it.
	s = &specs.Spec{Linux: &specs.Linux{Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}}}
	assert.DeepEqual(t, resources(s).Devices, append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, spec.DockerDevices()[3:]...))
	// A deny after a default re-adds it at the end, so the default wins,
	// as the runtime's own devices always do.
	null := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"}
	deny := specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"}
	s = &specs.Spec{Linux: &specs.Linux{Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{null, deny}}}}
	got := resources(s).Devices
	assert.DeepEqual(t, got[len(got)-len(spec.DockerDevices()[3:]):], spec.DockerDevices()[3:])
	// No resources at all still gets the defaults.
	assert.DeepEqual(t, resources(&specs.Spec{Linux: &specs.Linux{}}).Devices, spec.DockerDevices()[3:])
}
