package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
)

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }

// TestFromRun checks flags → spec for the parts each flag touches.
func TestFromRun(t *testing.T) {
	base := RunOptions{Rootfs: "/r", Args: []string{"sh"}}
	with := func(f func(o *RunOptions)) RunOptions { o := base; f(&o); return o }
	for _, tc := range []struct {
		name  string
		opts  RunOptions
		check func(t *testing.T, s *specs.Spec)
	}{
		{"defaults", base, func(t *testing.T, s *specs.Spec) {
			assert.Equal(t, s.Root.Path, "/r")
			assert.Equal(t, s.Root.Readonly, false)
			assert.Equal(t, s.Annotations[AnnotationOverlay], "true")
			assert.Equal(t, s.Hostname, "minibox")
			assert.Equal(t, s.Process.Cwd, "/")
			assert.Equal(t, s.Process.Terminal, false)
			assert.Equal(t, s.Process.NoNewPrivileges, true)
			assert.DeepEqual(t, s.Process.Capabilities.Effective, DockerCapabilities)
			assert.DeepEqual(t, s.Process.Capabilities.Bounding, DockerCapabilities)
			assert.Assert(t, s.Linux.Seccomp != nil)
			var types []specs.LinuxNamespaceType
			for _, n := range s.Linux.Namespaces {
				types = append(types, n.Type)
			}
			assert.DeepEqual(t, types, []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup"})
			assert.DeepEqual(t, s.Linux.MaskedPaths, MaskedPaths)
			assert.DeepEqual(t, s.Linux.ReadonlyPaths, ReadonlyPaths)
			assert.DeepEqual(t, s.Linux.Resources.Devices, DockerDevices())
			assert.Assert(t, s.Linux.Resources.Memory == nil && s.Linux.Resources.Pids == nil && s.Linux.Resources.CPU == nil)
			assert.DeepEqual(t, s.Process.Env, []string{DefaultPath, "HOSTNAME=minibox", "HOME=/root"})
		}},
		{"read-only", with(func(o *RunOptions) { o.ReadOnly = true }), func(t *testing.T, s *specs.Spec) {
			assert.Equal(t, s.Root.Readonly, true)
			_, overlay := s.Annotations[AnnotationOverlay]
			assert.Assert(t, !overlay)
		}},
		{"env replaces and appends", with(func(o *RunOptions) { o.Env = []string{"PATH=/x", "A=1"} }), func(t *testing.T, s *specs.Spec) {
			assert.DeepEqual(t, s.Process.Env, []string{"PATH=/x", "HOSTNAME=minibox", "HOME=/root", "A=1"})
		}},
		{"tty", with(func(o *RunOptions) { o.TTY = true }), func(t *testing.T, s *specs.Spec) {
			assert.Equal(t, s.Process.Terminal, true)
			assert.Equal(t, s.Process.Env[len(s.Process.Env)-1], "TERM=xterm")
		}},
		{"workdir and hostname", with(func(o *RunOptions) { o.Workdir = "/a/../b/"; o.Hostname = "h" }), func(t *testing.T, s *specs.Spec) {
			assert.Equal(t, s.Process.Cwd, "/b")
			assert.Equal(t, s.Hostname, "h")
		}},
		{"non-root user has no effective caps", with(func(o *RunOptions) { o.UID, o.GID = 1000, 100 }), func(t *testing.T, s *specs.Spec) {
			assert.DeepEqual(t, s.Process.User, specs.User{UID: 1000, GID: 100})
			assert.Assert(t, len(s.Process.Capabilities.Effective) == 0 && len(s.Process.Capabilities.Permitted) == 0)
			assert.DeepEqual(t, s.Process.Capabilities.Bounding, DockerCapabilities)
		}},
		{"limits", with(func(o *RunOptions) {
			o.Memory, o.MemorySwap, o.PidsLimit, o.CPUs, o.CPUShares, o.CpusetCPUs = 32<<20, 64<<20, 10, 1.5, 512, "0-1"
		}), func(t *testing.T, s *specs.Spec) {
			r := s.Linux.Resources
			assert.DeepEqual(t, r.Memory, &specs.LinuxMemory{Limit: i64(32 << 20), Swap: i64(64 << 20)})
			assert.DeepEqual(t, r.Pids, &specs.LinuxPids{Limit: i64(10)})
			assert.DeepEqual(t, r.CPU, &specs.LinuxCPU{Quota: i64(150000), Period: u64(100000), Shares: u64(512), Cpus: "0-1"})
		}},
		{"unlimited swap", with(func(o *RunOptions) { o.Memory, o.MemorySwap = 32<<20, -1 }), func(t *testing.T, s *specs.Spec) {
			assert.Equal(t, *s.Linux.Resources.Memory.Swap, int64(-1))
		}},
		{"network host", with(func(o *RunOptions) { o.Network = "host" }), func(t *testing.T, s *specs.Spec) {
			for _, n := range s.Linux.Namespaces {
				assert.Assert(t, n.Type != specs.NetworkNamespace)
			}
		}},
		{"userns", with(func(o *RunOptions) { o.UserNS = true }), func(t *testing.T, s *specs.Spec) {
			assert.Equal(t, s.Linux.Namespaces[len(s.Linux.Namespaces)-1].Type, specs.UserNamespace)
			m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			assert.DeepEqual(t, s.Linux.UIDMappings, m)
			assert.DeepEqual(t, s.Linux.GIDMappings, m)
		}},
		{"init and ulimits", with(func(o *RunOptions) {
			o.Init = true
			o.Ulimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}}
		}), func(t *testing.T, s *specs.Spec) {
			assert.Equal(t, s.Annotations[AnnotationInit], "true")
			assert.DeepEqual(t, s.Process.Rlimits, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FromRun(tc.opts)
			assert.NilError(t, err)
			tc.check(t, s)
			assert.NilError(t, Validate(s), "FromRun must produce a spec the runtime accepts")
		})
	}
}

func TestFromRunErrors(t *testing.T) {
	base := RunOptions{Rootfs: "/r", Args: []string{"sh"}}
	for _, tc := range []struct {
		name string
		f    func(o *RunOptions)
		err  string
	}{
		{"no command", func(o *RunOptions) { o.Args = nil }, "no command given"},
		{"relative rootfs", func(o *RunOptions) { o.Rootfs = "r" }, `rootfs "r": must be an absolute path`},
		{"relative workdir", func(o *RunOptions) { o.Workdir = "w" }, `workdir "w": must be an absolute path`},
		{"tiny memory", func(o *RunOptions) { o.Memory = 1024 }, "memory 1024: minimum is 6MiB"},
		{"swap without memory", func(o *RunOptions) { o.MemorySwap = 1 << 30 }, "memory-swap needs memory to be set too"},
		{"swap below memory", func(o *RunOptions) { o.Memory, o.MemorySwap = 64<<20, 32<<20 }, "must be at least memory"},
		{"negative pids", func(o *RunOptions) { o.PidsLimit = -1 }, "pids-limit -1: must be positive"},
		{"tiny cpus", func(o *RunOptions) { o.CPUs = 0.001 }, "cpus 0.001: minimum is 0.01"},
		{"shares range", func(o *RunOptions) { o.CPUShares = 1 }, "cpu-shares 1: must be between 2 and 262144"},
		{"cpuset", func(o *RunOptions) { o.CpusetCPUs = "3-1" }, `cpuset-cpus "3-1"`},
		{"network", func(o *RunOptions) { o.Network = "bridge" }, `network "bridge": must be none or host`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.f(&o)
			_, err := FromRun(o)
			assert.ErrorContains(t, err, tc.err)
		})
	}
}

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false}, {"100", 100, false}, {"1b", 1, false}, {"1k", 1024, false},
		{"32m", 32 << 20, false}, {"32M", 32 << 20, false}, {"2g", 2 << 30, false}, {"1kb", 1024, false},
		{"", 0, true}, {"m", 0, true}, {"-1m", 0, true}, {"1.5g", 0, true}, {"1t", 0, true}, {"lots", 0, true},
	} {
		got, err := ParseBytes(tc.in)
		if tc.err {
			assert.Check(t, err != nil, "%q: want an error, got %d", tc.in, got)
			continue
		}
		assert.Check(t, err == nil && got == tc.want, "%q: got %d, %v; want %d", tc.in, got, err, tc.want)
	}
}

func TestParseUlimit(t *testing.T) {
	max := ^uint64(0)
	for _, tc := range []struct {
		in   string
		want specs.POSIXRlimit
		err  string
	}{
		{"nofile=1024:2048", specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}, ""},
		{"nproc=50", specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: 50, Hard: 50}, ""},
		{"core=-1", specs.POSIXRlimit{Type: "RLIMIT_CORE", Soft: max, Hard: max}, ""},
		{"nofile", specs.POSIXRlimit{}, "want NAME=SOFT[:HARD]"},
		{"bogus=1", specs.POSIXRlimit{}, "want NAME=SOFT[:HARD]"},
		{"nofile=a", specs.POSIXRlimit{}, "limits must be numbers"},
		{"nofile=2:1", specs.POSIXRlimit{}, "soft limit exceeds hard limit"},
	} {
		got, err := ParseUlimit(tc.in)
		if tc.err != "" {
			assert.Check(t, err != nil && strings.Contains(err.Error(), tc.err), "%q: err %v, want %q", tc.in, err, tc.err)
			continue
		}
		assert.Check(t, err == nil, "%q: %v", tc.in, err)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, d)
		}
	}
}
