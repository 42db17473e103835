package namespaces

import (
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

func ns(types ...specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, t := range types {
		out = append(out, specs.LinuxNamespace{Type: t})
	}
	return out
}

func TestFromSpec(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []specs.LinuxNamespace
		want Plan
	}{
		{"none", nil, Plan{}},
		{"docker default", ns("pid", "network", "ipc", "uts", "mount", "cgroup"), Plan{
			Cloneflags:    unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNS,
			UnshareCgroup: true,
		}},
		{"user", ns("user", "mount"), Plan{Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS}},
		{"time", ns("time"), Plan{Cloneflags: unix.CLONE_NEWTIME}},
		{"join net by path", []specs.LinuxNamespace{{Type: "pid"}, {Type: "network", Path: "/proc/1/ns/net"}}, Plan{
			Cloneflags: unix.CLONE_NEWPID,
			Join:       []specs.LinuxNamespace{{Type: "network", Path: "/proc/1/ns/net"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromSpec(tc.in)
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestFromSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		in  []specs.LinuxNamespace
		err string
	}{
		{ns("pid", "pid"), `"pid" listed twice`},
		{ns("bogus"), `unknown type "bogus"`},
		{[]specs.LinuxNamespace{{Type: "mount", Path: "/x"}}, "joining a mount namespace by path is not supported"},
		{[]specs.LinuxNamespace{{Type: "user", Path: "/x"}}, "joining a user namespace by path is not supported"},
	} {
		_, err := FromSpec(tc.in)
		assert.ErrorContains(t, err, tc.err)
	}
}

func TestIDMaps(t *testing.T) {
	assert.Assert(t, IDMaps(nil) == nil)
	got := IDMaps([]specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}, {ContainerID: 65536, HostID: 5, Size: 1}})
	assert.DeepEqual(t, got, []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}, {ContainerID: 65536, HostID: 5, Size: 1}})
}

func TestHostID(t *testing.T) {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 5000, HostID: 7, Size: 1}}
	for _, tc := range []struct {
		maps []specs.LinuxIDMapping
		in   uint32
		want uint32
		ok   bool
	}{
		{nil, 42, 42, true},
		{m, 0, 100000, true},
		{m, 999, 100999, true},
		{m, 1000, 0, false},
		{m, 5000, 7, true},
	} {
		got, ok := HostID(tc.maps, tc.in)
		assert.Check(t, got == tc.want && ok == tc.ok, "%d: got %d %v", tc.in, got, ok)
	}
}
