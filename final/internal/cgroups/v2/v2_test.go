package v2

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/skip"

	"minibox.dev/final/internal/spec"
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
		{"memory, swap counted alone", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(64 << 20)}},
			[]Value{{"memory.max", "33554432"}, {"memory.swap.max", "33554432"}}},
		{"unlimited swap", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(-1)}},
			[]Value{{"memory.max", "33554432"}, {"memory.swap.max", "max"}}},
		{"pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}}, []Value{{"pids.max", "10"}}},
		{"cpu", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(50000), Period: u64(100000), Shares: u64(1024), Cpus: "0", Mems: "0"}},
			[]Value{{"cpu.max", "50000 100000"}, {"cpu.weight", "39"}, {"cpuset.cpus", "0"}, {"cpuset.mems", "0"}}},
		{"quota with the default period", &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(20000)}}, []Value{{"cpu.max", "20000 100000"}}},
		{"devices are not files", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Values(tc.r)
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
	_, err := Values(&specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: i64(1)}})
	assert.ErrorContains(t, err, "needs memory.limit")
	_, err = Values(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(10), Swap: i64(5)}})
	assert.ErrorContains(t, err, "below memory.limit")
}

func TestSharesToWeight(t *testing.T) {
	for shares, weight := range map[uint64]uint64{0: 1, 2: 1, 1024: 39, 262144: 10000, 1 << 30: 10000} {
		assert.Check(t, SharesToWeight(shares) == weight, "shares %d: got %d, want %d", shares, SharesToWeight(shares), weight)
	}
}

// TestNewOnFakeRoot: controllers are delegated down the path, and the
// values land in the leaf.
func TestNewOnFakeRoot(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(t, os.WriteFile(p, []byte(s), 0o644))
	}
	write(root+"/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
	write(root+"/cgroup.subtree_control", "cpu memory\n")
	write(root+"/minibox/cgroup.controllers", "cpuset cpu memory pids\n")
	write(root+"/minibox/cgroup.subtree_control", "")
	m, err := New(root, "/minibox/c1")
	assert.NilError(t, err)
	// What the kernel would have done at each step, our writes: only the
	// missing controllers are added.
	b, _ := os.ReadFile(root + "/cgroup.subtree_control")
	assert.Equal(t, string(b), "+cpuset +pids")
	b, _ = os.ReadFile(root + "/minibox/cgroup.subtree_control")
	assert.Equal(t, string(b), "+cpu +cpuset +memory +pids")
	write(root+"/minibox/c1/pids.max", "max\n")
	assert.NilError(t, m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(3)}}))
	b, _ = os.ReadFile(root + "/minibox/c1/pids.max")
	assert.Equal(t, string(b), "3")
}

// unifiedMount finds a cgroup2 mount: /sys/fs/cgroup on v2 hosts,
// /sys/fs/cgroup/unified on hybrid ones.
func unifiedMount(t *testing.T) string {
	f, err := os.Open("/proc/self/mountinfo")
	assert.NilError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, _ := strings.Cut(sc.Text(), " - ")
		if strings.HasPrefix(post, "cgroup2 ") {
			return strings.Fields(pre)[4]
		}
	}
	return ""
}

// TestDeviceFilter loads the BPF device program for real and attaches it
// to a cgroup2 directory (device programs need no controller, so this
// runs on hybrid hosts too): a process in that cgroup may open /dev/null
// but not /dev/kmsg.
func TestDeviceFilter(t *testing.T) {
	skip.If(t, os.Geteuid() != 0, "needs root: sudo scripts/test")
	mnt := unifiedMount(t)
	skip.If(t, mnt == "", "no cgroup2 filesystem mounted")
	path := "/minibox/devtest-" + strconv.Itoa(os.Getpid())
	dir := filepath.Join(mnt, path)
	assert.NilError(t, os.MkdirAll(dir, 0o755))
	m := Load(mnt, path)
	t.Cleanup(func() { m.Destroy() })

	i := func(v int64) *int64 { return &v }
	rules := []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: i(1), Minor: i(3), Access: "rwm"}, // null
		{Allow: true, Type: "c", Major: i(1), Minor: i(5), Access: "r"},   // zero, read only
	}
	assert.NilError(t, AttachDeviceFilter(dir, rules))

	// The shell waits for a line, so it is in the cgroup before it opens.
	sh := exec.Command("sh", "-c", `read x;
		head -c1 /dev/null && echo null=ok;
		head -c1 /dev/zero >/dev/null && echo zero-read=ok;
		echo x > /dev/zero && echo zero-write=ok;
		head -c1 /dev/kmsg >/dev/null && echo kmsg=ok; true`)
	in, err := sh.StdinPipe()
	assert.NilError(t, err)
	var out strings.Builder
	sh.Stdout, sh.Stderr = &out, &out
	assert.NilError(t, sh.Start())
	assert.NilError(t, m.Apply(sh.Process.Pid))
	in.Write([]byte("\n"))
	in.Close()
	assert.NilError(t, sh.Wait())
	got := out.String()
	assert.Check(t, strings.Contains(got, "null=ok"), got)
	assert.Check(t, strings.Contains(got, "zero-read=ok"), got)
	assert.Check(t, !strings.Contains(got, "zero-write=ok"), got)
	assert.Check(t, !strings.Contains(got, "kmsg=ok"), got)
	assert.Check(t, strings.Contains(got, "Operation not permitted"), got)
}

// TestDockerDeviceProgramLoads: the verifier accepts the program for
// docker's whole device list (wildcards, access subsets).
func TestDockerDeviceProgramLoads(t *testing.T) {
	skip.If(t, os.Geteuid() != 0, "needs root: sudo scripts/test")
	mnt := unifiedMount(t)
	skip.If(t, mnt == "", "no cgroup2 filesystem mounted")
	path := "/minibox/devtest2-" + strconv.Itoa(os.Getpid())
	assert.NilError(t, os.MkdirAll(filepath.Join(mnt, path), 0o755))
	m := Load(mnt, path)
	t.Cleanup(func() { m.Destroy() })
	assert.NilError(t, AttachDeviceFilter(filepath.Join(mnt, path), spec.DockerDevices()))
}
