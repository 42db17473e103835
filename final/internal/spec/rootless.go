package spec

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Rootless adapts a config for a container started by an unprivileged user
// whose uid and gid are given, as `runc spec --rootless` does: a user
// namespace maps that one user to root inside; what an unprivileged user
// may not do goes away: a new sysfs (bind-mounted from the host instead,
// read-only), the tty group on devpts (gid 5 is not mapped), cgroup limits
// (no delegated cgroup to write them in). It changes s in place.
func Rootless(s *specs.Spec, uid, gid uint32) {
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	var ns []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		// A new network namespace stays (it only holds loopback); the
		// user namespace is added once below.
		if n.Type != specs.UserNamespace {
			ns = append(ns, n)
		}
	}
	s.Linux.Namespaces = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uid, Size: 1}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: gid, Size: 1}}
	s.Linux.Resources = nil

	var mounts []specs.Mount
	for _, m := range s.Mounts {
		switch {
		case m.Destination == "/sys":
			m = specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
				Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
		case m.Type == "devpts":
			var opts []string
			for _, o := range m.Options {
				if !strings.HasPrefix(o, "gid=") {
					opts = append(opts, o)
				}
			}
			m.Options = opts
		case m.Type == "cgroup" || m.Type == "cgroup2":
			continue // mounting cgroupfs needs a delegated cgroup
		}
		mounts = append(mounts, m)
	}
	s.Mounts = mounts
}
