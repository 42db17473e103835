package spec

import (
	"encoding/json"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
)

func loadTestConfig(t *testing.T, name string) *specs.Spec {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	assert.NilError(t, err)
	var s specs.Spec
	assert.NilError(t, json.Unmarshal(data, &s))
	return &s
}

// The configs real clients send must pass: these were captured from podman
// 4.3 (with -t, --pids-limit, seccomp, sysctl) and containerd 1.6's ctr run
// on Debian 12 by pointing them at a runtime that saved its bundle.
func TestValidateAcceptsRealClients(t *testing.T) {
	for _, name := range []string{"podman-config.json", "containerd-config.json"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + name)
			assert.NilError(t, err)
			_, err = Parse(data) // strict: no field unknown to the spec types
			assert.NilError(t, err)
		})
	}
	t.Run("Default", func(t *testing.T) { assert.NilError(t, Validate(Default())) })
}

func TestValidateRejects(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	zero := 0
	adj := 2000
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		want   string
	}{
		{"old version", func(s *specs.Spec) { s.Version = "0.5.0" },
			`ociVersion "0.5.0": minibox implements runtime-spec 1.x`},
		{"no root", func(s *specs.Spec) { s.Root = nil }, "root.path: required"},
		{"no process", func(s *specs.Spec) { s.Process = nil }, "process: required to create a container"},
		{"no linux", func(s *specs.Spec) { s.Linux = nil }, "linux: required on Linux"},
		{"no args", func(s *specs.Spec) { s.Process.Args = nil }, "process.args: must name the program to run"},
		{"relative cwd", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, `process.cwd "tmp": must be an absolute path`},
		{"bad env", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "NOEQUALS") },
			`process.env[1] "NOEQUALS": want KEY=VALUE`},
		{"unknown capability", func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FLY")
		}, `process.capabilities.bounding: unknown capability "CAP_FLY"`},
		{"unknown rlimit", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_WINGS", Soft: 1, Hard: 1}}
		}, `process.rlimits: unknown type "RLIMIT_WINGS"`},
		{"rlimit soft above hard", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2, Hard: 1}}
		}, "process.rlimits: RLIMIT_NOFILE soft limit 2 exceeds hard limit 1"},
		{"rlimit twice", func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, s.Process.Rlimits[0])
		}, "process.rlimits: RLIMIT_NOFILE listed twice"},
		{"oom score", func(s *specs.Spec) { s.Process.OOMScoreAdj = &adj },
			"process.oomScoreAdj 2000: must be between -1000 and 1000"},
		{"console size without terminal", func(s *specs.Spec) {
			s.Process.Terminal = false
			s.Process.ConsoleSize = &specs.Box{Height: 1, Width: 1}
		}, "process.consoleSize: set but process.terminal is false"},
		{"apparmor", func(s *specs.Spec) { s.Process.ApparmorProfile = "docker-default" },
			"process.apparmorProfile: not supported by minibox"},
		{"selinux", func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0" },
			"process.selinuxLabel: not supported by minibox"},
		{"scheduler", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FIFO"} },
			"process.scheduler: not supported by minibox"},
		{"windows section", func(s *specs.Spec) { s.Windows = &specs.Windows{} }, "windows: not supported by minibox"},
		{"relative mount", func(s *specs.Spec) { s.Mounts[0].Destination = "proc" },
			`mounts[0].destination "proc": must be absolute`},
		{"idmapped mount", func(s *specs.Spec) {
			s.Mounts[0].UIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}, "mounts[0] (/proc): idmapped mounts are not supported by minibox"},
		{"relative hook", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "hook"}}}
		}, `hooks.poststop[0].path "hook": must be absolute`},
		{"zero hook timeout", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/hook", Timeout: &zero}}}
		}, "hooks.createRuntime[0].timeout 0: must be positive"},
		{"unknown namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "galaxy"})
		}, `linux.namespaces[5].type "galaxy": unknown namespace type`},
		{"namespace twice", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "pid"})
		}, `linux.namespaces: "pid" listed twice`},
		{"sysctl of the host", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} },
			`linux.sysctl "vm.swappiness": not namespaced: it would change the host`},
		{"sysctl path", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net.../../x": "1"} },
			`linux.sysctl "net.../../x": not a sysctl name`},
		{"net sysctl without a network namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:1] // pid only
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, `linux.sysctl "net.ipv4.ip_forward": needs the container's own network namespace`},
		{"ipc sysctl without an ipc namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:1]
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
		}, `linux.sysctl "kernel.shmmax": needs the container's own ipc namespace`},
		{"id maps without user namespace", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "linux.uidMappings/gidMappings: set without a user namespace"},
		{"systemd cgroup path", func(s *specs.Spec) { s.Linux.CgroupsPath = "system.slice:minibox:c1" },
			`linux.cgroupsPath "system.slice:minibox:c1": systemd slice:prefix:name paths are not supported by minibox (cgroupfs only)`},
		{"relative cgroup path", func(s *specs.Spec) { s.Linux.CgroupsPath = "minibox/c1" },
			`linux.cgroupsPath "minibox/c1": must be absolute`},
		{"propagation", func(s *specs.Spec) { s.Linux.RootfsPropagation = "sideways" },
			`linux.rootfsPropagation "sideways": unknown propagation`},
		{"relative masked path", func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"proc/kcore"} },
			`linux.maskedPaths/readonlyPaths "proc/kcore": must be absolute`},
		{"extra devices", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
		}, "linux.devices (extra device nodes): not supported by minibox"},
		{"shared rootfs", func(s *specs.Spec) { s.Linux.RootfsPropagation = "rslave" },
			`linux.rootfsPropagation "rslave": not supported by minibox (the container's mounts are always rprivate)`},
		{"memory reservation", func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Reservation: i64(1 << 20)}
		}, "linux.resources.memory.reservation: not supported by minibox"},
		{"cpu burst", func(s *specs.Spec) {
			b := uint64(1)
			s.Linux.Resources.CPU = &specs.LinuxCPU{Burst: &b}
		}, "linux.resources.cpu.burst: not supported by minibox"},
		{"device cgroup access", func(s *specs.Spec) {
			s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Access: "rwx"}}
		}, `linux.resources.devices[0].access "rwx": want letters of rwm`},
		{"blockIO", func(s *specs.Spec) { s.Linux.Resources.BlockIO = &specs.LinuxBlockIO{} },
			"linux.resources.blockIO: not supported by minibox"},
		{"hugepages", func(s *specs.Spec) {
			s.Linux.Resources.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}
		}, "linux.resources.hugepageLimits: not supported by minibox"},
		{"unified", func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"io.max": "x"} },
			"linux.resources.unified: not supported by minibox"},
		{"kernel memory", func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Kernel: i64(1 << 20)} //nolint:staticcheck // the deprecated field is what is tested
		}, "linux.resources.memory.kernel: not supported by minibox"},
		{"realtime cpu", func(s *specs.Spec) {
			s.Linux.Resources.CPU = &specs.LinuxCPU{RealtimeRuntime: i64(1)}
		}, "linux.resources.cpu.realtimeRuntime: not supported by minibox"},
		{"intel rdt", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{} },
			"linux.intelRdt: not supported by minibox"},
		{"seccomp notify", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/notify.sock"}
		}, "linux.seccomp.listenerPath: not supported by minibox"},
		{"seccomp action", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActNotify}
		}, `linux.seccomp.defaultAction "SCMP_ACT_NOTIFY": unknown or unsupported action`},
		{"seccomp empty names", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Action: specs.ActErrno}}}
		}, "linux.seccomp.syscalls[0].names: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := loadTestConfig(t, "containerd-config.json")
			tc.mutate(s)
			assert.Error(t, Validate(s), tc.want)
		})
	}
}

func TestValidateProcessForExec(t *testing.T) {
	p := loadTestConfig(t, "containerd-config.json").Process
	assert.NilError(t, ValidateProcess(p))
	p.Cwd = ""
	assert.Error(t, ValidateProcess(p), `process.cwd "": must be an absolute path`)
	assert.Error(t, ValidateProcess(nil), "process: required")
}
