package spec

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
)

func TestRootless(t *testing.T) {
	s := Default()
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"})
	Rootless(s, 1000, 1001)

	assert.DeepEqual(t, s.Linux.UIDMappings, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}})
	assert.DeepEqual(t, s.Linux.GIDMappings, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1001, Size: 1}})
	users := 0
	for _, n := range s.Linux.Namespaces {
		if n.Type == specs.UserNamespace {
			users++
		}
	}
	assert.Equal(t, users, 1, "exactly one user namespace")
	assert.Assert(t, s.Linux.Resources == nil, "no cgroup limits without a delegated cgroup")

	got := map[string]specs.Mount{}
	for _, m := range s.Mounts {
		got[m.Destination] = m
	}
	assert.DeepEqual(t, got["/sys"], specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
		Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}})
	for _, o := range got["/dev/pts"].Options {
		assert.Assert(t, o != "gid=5", "devpts keeps gid=5: %v", got["/dev/pts"].Options)
	}
	_, cg := got["/sys/fs/cgroup"]
	assert.Assert(t, !cg, "cgroupfs mount kept")
	assert.NilError(t, Validate(s))

	// Applying it twice changes nothing more.
	again := Default()
	Rootless(again, 1000, 1001)
	Rootless(again, 1000, 1001)
	s2 := Default()
	Rootless(s2, 1000, 1001)
	assert.DeepEqual(t, again, s2)
}
