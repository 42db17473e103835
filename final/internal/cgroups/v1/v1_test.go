package v1

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
)

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }

func TestValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *specs.LinuxResources
		want []Value
	}{
		{"nil", nil, nil},
		{"memory and swap, memory first", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(64 << 20)}},
			[]Value{{"memory", "memory.limit_in_bytes", "33554432"}, {"memory", "memory.memsw.limit_in_bytes", "67108864"}}},
		{"pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}, []Value{{"pids", "pids.max", "10"}}},
		{"pids unlimited", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(0)}}, []Value{{"pids", "pids.max", "max"}}},
		{"cpu: period before quota", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(50000), Period: u64(100000), Shares: u64(512), Cpus: "0-1", Mems: "0"}},
			[]Value{{"cpu", "cpu.cfs_period_us", "100000"}, {"cpu", "cpu.cfs_quota_us", "50000"}, {"cpu", "cpu.shares", "512"},
				{"cpuset", "cpuset.cpus", "0-1"}, {"cpuset", "cpuset.mems", "0"}}},
		{"devices in order", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
			{Allow: true, Type: "c", Major: i64(136), Access: "rw"},
			{Allow: true, Type: "b", Access: "m"},
		}}, []Value{{"devices", "devices.deny", "a"}, {"devices", "devices.allow", "c 1:3 rwm"},
			{"devices", "devices.allow", "c 136:* rw"}, {"devices", "devices.allow", "b *:* m"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Values(tc.r)
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
	_, err := Values(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x"}}})
	assert.ErrorContains(t, err, `type "x"`)
	_, err = Values(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "rx"}}})
	assert.ErrorContains(t, err, `access "rx"`)
}

func TestParseMountinfo(t *testing.T) {
	in := `25 1 0:23 / /sys rw - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
33 30 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
34 30 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
`
	got, err := parseMountinfo(strings.NewReader(in))
	assert.NilError(t, err)
	assert.DeepEqual(t, got, map[string]string{
		"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct", "memory": "/sys/fs/cgroup/memory",
	})
}

// fakeRoot makes a directory per controller with the files the kernel
// would create, so Set's writes can be read back.
func fakeRoot(t *testing.T) map[string]string {
	root := t.TempDir()
	mounts := map[string]string{}
	for _, c := range Controllers {
		dir := filepath.Join(root, c)
		assert.NilError(t, os.MkdirAll(dir, 0o755))
		mounts[c] = dir
	}
	assert.NilError(t, os.WriteFile(filepath.Join(mounts["cpuset"], "cpuset.cpus"), []byte("0-3\n"), 0o644))
	assert.NilError(t, os.WriteFile(filepath.Join(mounts["cpuset"], "cpuset.mems"), []byte("0\n"), 0o644))
	// Under /minibox the kernel creates empty cpuset files.
	for _, d := range []string{"minibox", "minibox/c1"} {
		dir := filepath.Join(mounts["cpuset"], d)
		assert.NilError(t, os.MkdirAll(dir, 0o755))
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			assert.NilError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
		}
	}
	return mounts
}

func read(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	assert.NilError(t, err)
	return string(b)
}

func TestManagerOnFakeRoot(t *testing.T) {
	mounts := fakeRoot(t)
	m, err := New(mounts, "/minibox/c1", Controllers)
	assert.NilError(t, err)
	// cpuset cpus and mems were copied down from the root.
	assert.Equal(t, read(t, filepath.Join(mounts["cpuset"], "minibox/cpuset.cpus")), "0-3")
	assert.Equal(t, read(t, filepath.Join(mounts["cpuset"], "minibox/c1/cpuset.mems")), "0")

	// The kernel creates each cgroup's interface files; the fake does it
	// here.
	touch(t, filepath.Join(mounts["memory"], "minibox/c1/memory.limit_in_bytes"),
		filepath.Join(mounts["pids"], "minibox/c1/pids.max"))
	for _, c := range Controllers {
		touch(t, filepath.Join(mounts[c], "minibox/c1/cgroup.procs"))
	}
	// A file this kernel lacks is named, with the likely reason.
	err = m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20), Swap: i64(2 << 20)}})
	assert.ErrorContains(t, err, "memory.memsw.limit_in_bytes does not exist on this kernel: swap is not accounted")

	assert.NilError(t, m.Set(&specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(1 << 20)},
		Pids:   &specs.LinuxPids{Limit: i64(5)},
		CPU:    &specs.LinuxCPU{Cpus: "1"},
	}))
	assert.Equal(t, read(t, filepath.Join(mounts["memory"], "minibox/c1/memory.limit_in_bytes")), "1048576")
	assert.Equal(t, read(t, filepath.Join(mounts["pids"], "minibox/c1/pids.max")), "5")
	assert.Equal(t, read(t, filepath.Join(mounts["cpuset"], "minibox/c1/cpuset.cpus")), "1")

	assert.NilError(t, m.Apply(42))
	for _, c := range Controllers {
		assert.Equal(t, read(t, filepath.Join(mounts[c], "minibox/c1/cgroup.procs")), "42")
	}
	pids, err := m.Pids()
	assert.NilError(t, err)
	assert.DeepEqual(t, pids, []int{42})
}

func TestJoined(t *testing.T) {
	joined := Needed(nil)
	assert.Check(t, Joined("cpu,cpuacct", joined))
	assert.Check(t, Joined("memory", joined))
	assert.Check(t, !Joined("cpuacct", joined))
	assert.Check(t, !Joined("cpuset", joined))
	assert.Check(t, !Joined("blkio", joined))
	assert.Check(t, !Joined("xattr,name=systemd", joined))
}

func TestNeeded(t *testing.T) {
	base := []string{"cpu", "memory", "pids", "devices", "freezer"}
	assert.DeepEqual(t, Needed(nil), base)
	assert.DeepEqual(t, Needed(&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(1000)}}), base)
	assert.DeepEqual(t, Needed(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}), append(base, "cpuset"))
}

// TestNewJoinsOnlyNeeded: without a cpuset the cgroup is not created in
// the cpuset hierarchy, and co-mounted controllers get one write.
func TestNewJoinsOnlyNeeded(t *testing.T) {
	mounts := fakeRoot(t)
	mounts["cpuacct"] = mounts["cpu"] // co-mounted, as on most v1 hosts
	m, err := New(mounts, "/minibox/c2", append(Needed(nil), "cpuacct"))
	assert.NilError(t, err)
	_, err = os.Stat(filepath.Join(mounts["cpuset"], "minibox/c2"))
	assert.Assert(t, os.IsNotExist(err))
	touch(t, filepath.Join(mounts["cpu"], "minibox/c2/cgroup.procs"), filepath.Join(mounts["memory"], "minibox/c2/cgroup.procs"),
		filepath.Join(mounts["pids"], "minibox/c2/cgroup.procs"), filepath.Join(mounts["devices"], "minibox/c2/cgroup.procs"),
		filepath.Join(mounts["freezer"], "minibox/c2/cgroup.procs"))
	assert.NilError(t, m.Apply(7))
	assert.Equal(t, read(t, filepath.Join(mounts["cpu"], "minibox/c2/cgroup.procs")), "7")
}

func touch(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		assert.NilError(t, os.WriteFile(p, nil, 0o644))
	}
}
