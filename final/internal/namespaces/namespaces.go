package namespaces

import (
	"fmt"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// flags maps each namespace type to its clone(2) flag.
var flags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// Plan is what the namespace list means for starting init.
type Plan struct {
	// Cloneflags are passed to clone(2) when init is started: every new
	// namespace except the cgroup one.
	Cloneflags uintptr
	// UnshareCgroup tells init to unshare(CLONE_NEWCGROUP) once it is in
	// its cgroup, so the container sees that cgroup as its root.
	UnshareCgroup bool
	// Join lists namespaces to enter by path (setns(2)) instead of
	// creating them.
	Join []specs.LinuxNamespace
}

// FromSpec builds the Plan. A namespace listed twice, an unknown type, or
// a path for a namespace that init cannot join once Go runs (user, mount,
// pid: they need a single thread or a fork) is an error.
func FromSpec(ns []specs.LinuxNamespace) (Plan, error) {
	var p Plan
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, n := range ns {
		f, ok := flags[n.Type]
		if !ok {
			return Plan{}, fmt.Errorf("linux.namespaces: unknown type %q", n.Type)
		}
		if seen[n.Type] {
			return Plan{}, fmt.Errorf("linux.namespaces: %q listed twice", n.Type)
		}
		seen[n.Type] = true
		if n.Path != "" {
			switch n.Type {
			case specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.CgroupNamespace:
				p.Join = append(p.Join, n)
			default:
				return Plan{}, fmt.Errorf("linux.namespaces: joining a %s namespace by path is not supported", n.Type)
			}
			continue
		}
		if n.Type == specs.CgroupNamespace {
			p.UnshareCgroup = true
			continue
		}
		p.Cloneflags |= f
	}
	return p, nil
}

// Has reports whether the spec creates or joins a namespace of type t.
func Has(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	for _, n := range ns {
		if n.Type == t {
			return true
		}
	}
	return false
}

// IDMaps converts the spec's mappings for os/exec, which writes them to
// /proc/PID/uid_map and gid_map before the child runs.
func IDMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	if len(m) == 0 {
		return nil
	}
	out := make([]syscall.SysProcIDMap, len(m))
	for i, x := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(x.ContainerID), HostID: int(x.HostID), Size: int(x.Size)}
	}
	return out
}

// HostID returns the host ID that container ID id maps to, or id itself
// when there is no mapping; ok is false when id is not mapped.
func HostID(m []specs.LinuxIDMapping, id uint32) (uint32, bool) {
	if len(m) == 0 {
		return id, true
	}
	for _, x := range m {
		if id >= x.ContainerID && id-x.ContainerID < x.Size {
			return x.HostID + (id - x.ContainerID), true
		}
	}
	return 0, false
}
