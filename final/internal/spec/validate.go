package spec

import (
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/security"
)

// unsupported lists config fields minibox does not implement. Each is
// rejected with its name rather than silently ignored: a runtime that drops
// an AppArmor profile or an I/O limit it was asked for would give the user
// less isolation than they believe they have.
var unsupported = []struct {
	field string
	set   func(*specs.Spec) bool
}{
	{"process.apparmorProfile", func(s *specs.Spec) bool { return s.Process != nil && s.Process.ApparmorProfile != "" }},
	{"process.selinuxLabel", func(s *specs.Spec) bool { return s.Process != nil && s.Process.SelinuxLabel != "" }},
	{"process.ioPriority", func(s *specs.Spec) bool { return s.Process != nil && s.Process.IOPriority != nil }},
	{"process.scheduler", func(s *specs.Spec) bool { return s.Process != nil && s.Process.Scheduler != nil }},
	{"process.execCPUAffinity", func(s *specs.Spec) bool { return s.Process != nil && s.Process.ExecCPUAffinity != nil }},
	{"process.user.username", func(s *specs.Spec) bool { return s.Process != nil && s.Process.User.Username != "" }},
	{"solaris", func(s *specs.Spec) bool { return s.Solaris != nil }},
	{"windows", func(s *specs.Spec) bool { return s.Windows != nil }},
	{"vm", func(s *specs.Spec) bool { return s.VM != nil }},
	{"zos", func(s *specs.Spec) bool { return s.ZOS != nil }},
	{"linux.intelRdt", func(s *specs.Spec) bool { return s.Linux != nil && s.Linux.IntelRdt != nil }},
	{"linux.personality", func(s *specs.Spec) bool { return s.Linux != nil && s.Linux.Personality != nil }},
	{"linux.timeOffsets", func(s *specs.Spec) bool { return s.Linux != nil && len(s.Linux.TimeOffsets) > 0 }},
	{"linux.mountLabel", func(s *specs.Spec) bool { return s.Linux != nil && s.Linux.MountLabel != "" }},
	{"linux.netDevices", func(s *specs.Spec) bool { return s.Linux != nil && len(s.Linux.NetDevices) > 0 }},
	{"linux.memoryPolicy", func(s *specs.Spec) bool { return s.Linux != nil && s.Linux.MemoryPolicy != nil }},
	{"linux.resources.blockIO", func(s *specs.Spec) bool { return res(s) != nil && res(s).BlockIO != nil }},
	{"linux.resources.hugepageLimits", func(s *specs.Spec) bool { return res(s) != nil && len(res(s).HugepageLimits) > 0 }},
	{"linux.resources.network", func(s *specs.Spec) bool { return res(s) != nil && res(s).Network != nil }},
	{"linux.resources.rdma", func(s *specs.Spec) bool { return res(s) != nil && len(res(s).Rdma) > 0 }},
	{"linux.resources.unified", func(s *specs.Spec) bool { return res(s) != nil && len(res(s).Unified) > 0 }},
	{"linux.resources.memory.kernel", func(s *specs.Spec) bool { return mem(s) != nil && mem(s).Kernel != nil }},       //nolint:staticcheck // deprecated, rejected on purpose
	{"linux.resources.memory.kernelTCP", func(s *specs.Spec) bool { return mem(s) != nil && mem(s).KernelTCP != nil }}, //nolint:staticcheck // deprecated, rejected on purpose
	{"linux.resources.memory.reservation", func(s *specs.Spec) bool { return mem(s) != nil && mem(s).Reservation != nil }},
	{"linux.resources.memory.swappiness", func(s *specs.Spec) bool { return mem(s) != nil && mem(s).Swappiness != nil }},
	{"linux.resources.memory.disableOOMKiller", func(s *specs.Spec) bool {
		return mem(s) != nil && mem(s).DisableOOMKiller != nil && *mem(s).DisableOOMKiller
	}},
	{"linux.resources.memory.checkBeforeUpdate", func(s *specs.Spec) bool {
		return mem(s) != nil && mem(s).CheckBeforeUpdate != nil && *mem(s).CheckBeforeUpdate
	}},
	{"linux.resources.cpu.burst", func(s *specs.Spec) bool { return cpu(s) != nil && cpu(s).Burst != nil }},
	{"linux.resources.cpu.idle", func(s *specs.Spec) bool { return cpu(s) != nil && cpu(s).Idle != nil && *cpu(s).Idle != 0 }},
	{"linux.devices (extra device nodes)", func(s *specs.Spec) bool { return s.Linux != nil && len(s.Linux.Devices) > 0 }},
	{"linux.resources.cpu.realtimeRuntime", func(s *specs.Spec) bool { return cpu(s) != nil && cpu(s).RealtimeRuntime != nil }},
	{"linux.resources.cpu.realtimePeriod", func(s *specs.Spec) bool { return cpu(s) != nil && cpu(s).RealtimePeriod != nil }},
	{"linux.seccomp.listenerPath", func(s *specs.Spec) bool {
		return s.Linux != nil && s.Linux.Seccomp != nil && s.Linux.Seccomp.ListenerPath != ""
	}},
}

func res(s *specs.Spec) *specs.LinuxResources {
	if s.Linux == nil {
		return nil
	}
	return s.Linux.Resources
}

func mem(s *specs.Spec) *specs.LinuxMemory {
	if r := res(s); r != nil {
		return r.Memory
	}
	return nil
}

func cpu(s *specs.Spec) *specs.LinuxCPU {
	if r := res(s); r != nil {
		return r.CPU
	}
	return nil
}

// Validate checks a container's config before anything is created: the
// fields the spec requires, values the runtime could not apply, and every
// field minibox does not support. The error names the field, e.g.
// `linux.resources.blockIO: not supported by minibox`.
func Validate(s *specs.Spec) error {
	if s == nil {
		return fmt.Errorf("config is empty")
	}
	if !strings.HasPrefix(s.Version, "1.") {
		return fmt.Errorf("ociVersion %q: minibox implements runtime-spec 1.x", s.Version)
	}
	if s.Root == nil || s.Root.Path == "" {
		return fmt.Errorf("root.path: required")
	}
	if s.Process == nil {
		return fmt.Errorf("process: required to create a container")
	}
	if s.Linux == nil {
		return fmt.Errorf("linux: required on Linux")
	}
	for _, u := range unsupported {
		if u.set(s) {
			return fmt.Errorf("%s: not supported by minibox", u.field)
		}
	}
	if err := ValidateProcess(s.Process); err != nil {
		return err
	}
	for i, m := range s.Mounts {
		if m.Destination == "" {
			return fmt.Errorf("mounts[%d].destination: required", i)
		}
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d].destination %q: must be absolute", i, m.Destination)
		}
		if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			return fmt.Errorf("mounts[%d] (%s): idmapped mounts are not supported by minibox", i, m.Destination)
		}
	}
	if err := validateHooks(s.Hooks); err != nil {
		return err
	}
	return validateLinux(s.Linux)
}

// ValidateProcess checks a process: the container's own, or one given to
// `minibox exec --process`.
func ValidateProcess(p *specs.Process) error {
	if p == nil {
		return fmt.Errorf("process: required")
	}
	if len(p.Args) == 0 || p.Args[0] == "" {
		return fmt.Errorf("process.args: must name the program to run")
	}
	if p.CommandLine != "" {
		return fmt.Errorf("process.commandLine: not supported by minibox (Windows only)")
	}
	if p.Cwd == "" || !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd %q: must be an absolute path", p.Cwd)
	}
	for i, e := range p.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("process.env[%d] %q: want KEY=VALUE", i, e)
		}
	}
	if p.ConsoleSize != nil && !p.Terminal {
		return fmt.Errorf("process.consoleSize: set but process.terminal is false")
	}
	if p.Capabilities != nil {
		if _, err := security.CapsFromSpec(p.Capabilities); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, l := range p.Rlimits {
		if !knownRlimit(l.Type) {
			return fmt.Errorf("process.rlimits: unknown type %q", l.Type)
		}
		if seen[l.Type] {
			return fmt.Errorf("process.rlimits: %s listed twice", l.Type)
		}
		seen[l.Type] = true
		if l.Soft > l.Hard {
			return fmt.Errorf("process.rlimits: %s soft limit %d exceeds hard limit %d", l.Type, l.Soft, l.Hard)
		}
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return fmt.Errorf("process.oomScoreAdj %d: must be between -1000 and 1000", *p.OOMScoreAdj)
	}
	return nil
}

func knownRlimit(t string) bool {
	for _, v := range rlimitNames {
		if v == t {
			return true
		}
	}
	return false
}

func validateHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	for _, kind := range []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, //nolint:staticcheck // deprecated, still honoured
		{"createRuntime", h.CreateRuntime},
		{"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer},
		{"poststart", h.Poststart},
		{"poststop", h.Poststop},
	} {
		for i, hk := range kind.hooks {
			if !filepath.IsAbs(hk.Path) {
				return fmt.Errorf("hooks.%s[%d].path %q: must be absolute", kind.name, i, hk.Path)
			}
			if hk.Timeout != nil && *hk.Timeout <= 0 {
				return fmt.Errorf("hooks.%s[%d].timeout %d: must be positive", kind.name, i, *hk.Timeout)
			}
		}
	}
	return nil
}

var seccompActions = map[specs.LinuxSeccompAction]bool{
	specs.ActKill: true, specs.ActKillProcess: true, specs.ActKillThread: true,
	specs.ActTrap: true, specs.ActErrno: true, specs.ActTrace: true,
	specs.ActAllow: true, specs.ActLog: true,
}

var namespaceTypes = map[specs.LinuxNamespaceType]bool{
	specs.PIDNamespace: true, specs.NetworkNamespace: true, specs.MountNamespace: true,
	specs.IPCNamespace: true, specs.UTSNamespace: true, specs.UserNamespace: true,
	specs.CgroupNamespace: true, specs.TimeNamespace: true,
}

func validateLinux(l *specs.Linux) error {
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, n := range l.Namespaces {
		if !namespaceTypes[n.Type] {
			return fmt.Errorf("linux.namespaces[%d].type %q: unknown namespace type", i, n.Type)
		}
		if seen[n.Type] {
			return fmt.Errorf("linux.namespaces: %q listed twice", n.Type)
		}
		seen[n.Type] = true
	}
	if err := validateSysctl(l.Sysctl, seen); err != nil {
		return err
	}
	if (len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0) && !seen[specs.UserNamespace] {
		return fmt.Errorf("linux.uidMappings/gidMappings: set without a user namespace")
	}
	if l.CgroupsPath != "" && !filepath.IsAbs(l.CgroupsPath) {
		if strings.Count(l.CgroupsPath, ":") == 2 {
			return fmt.Errorf("linux.cgroupsPath %q: systemd slice:prefix:name paths are not supported by minibox (cgroupfs only)", l.CgroupsPath)
		}
		return fmt.Errorf("linux.cgroupsPath %q: must be absolute", l.CgroupsPath)
	}
	switch l.RootfsPropagation {
	case "", "private", "rprivate":
	case "slave", "rslave", "shared", "rshared", "unbindable", "runbindable":
		return fmt.Errorf("linux.rootfsPropagation %q: not supported by minibox (the container's mounts are always rprivate)", l.RootfsPropagation)
	default:
		return fmt.Errorf("linux.rootfsPropagation %q: unknown propagation", l.RootfsPropagation)
	}
	for _, p := range append(append([]string{}, l.MaskedPaths...), l.ReadonlyPaths...) {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("linux.maskedPaths/readonlyPaths %q: must be absolute", p)
		}
	}
	if r := l.Resources; r != nil {
		for i, d := range r.Devices {
			if d.Type != "" && d.Type != "a" && d.Type != "c" && d.Type != "b" {
				return fmt.Errorf("linux.resources.devices[%d].type %q: want a, c or b", i, d.Type)
			}
			if strings.Trim(d.Access, "rwm") != "" {
				return fmt.Errorf("linux.resources.devices[%d].access %q: want letters of rwm", i, d.Access)
			}
		}
	}
	if sc := l.Seccomp; sc != nil {
		if !seccompActions[sc.DefaultAction] {
			return fmt.Errorf("linux.seccomp.defaultAction %q: unknown or unsupported action", sc.DefaultAction)
		}
		for i, sys := range sc.Syscalls {
			if !seccompActions[sys.Action] {
				return fmt.Errorf("linux.seccomp.syscalls[%d].action %q: unknown or unsupported action", i, sys.Action)
			}
			if len(sys.Names) == 0 {
				return fmt.Errorf("linux.seccomp.syscalls[%d].names: empty", i)
			}
		}
	}
	return nil
}

// ipcSysctls are the kernel.* keys an IPC namespace owns
// (ipc_namespaces(7)).
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// validateSysctl accepts only keys that belong to a namespace the
// container has of its own: writing any other would change the host.
func validateSysctl(sysctl map[string]string, ns map[specs.LinuxNamespaceType]bool) error {
	for k := range sysctl {
		for _, part := range strings.Split(k, ".") {
			if part == "" || part == ".." || strings.Contains(part, "/") {
				return fmt.Errorf("linux.sysctl %q: not a sysctl name", k)
			}
		}
		var need specs.LinuxNamespaceType
		switch {
		case strings.HasPrefix(k, "net."):
			need = specs.NetworkNamespace
		case ipcSysctls[k] || strings.HasPrefix(k, "fs.mqueue."):
			need = specs.IPCNamespace
		case k == "kernel.hostname" || k == "kernel.domainname":
			need = specs.UTSNamespace
		default:
			return fmt.Errorf("linux.sysctl %q: not namespaced: it would change the host", k)
		}
		if !ns[need] {
			return fmt.Errorf("linux.sysctl %q: needs the container's own %s namespace", k, need)
		}
	}
	return nil
}
