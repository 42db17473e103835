package cgroups

import (
	"fmt"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	v1 "minibox.dev/final/internal/cgroups/v1"
	v2 "minibox.dev/final/internal/cgroups/v2"
)

// CgroupMode is the host's cgroup layout.
type CgroupMode int

const (
	Unavailable CgroupMode = iota
	Legacy                 // v1 only
	Hybrid                 // v1 controllers, cgroup2 mounted beside them
	Unified                // v2 only
)

func (m CgroupMode) String() string {
	return [...]string{"unavailable", "v1", "hybrid", "v2"}[m]
}

// Root is where the cgroup filesystems are mounted.
const Root = "/sys/fs/cgroup"

// Mode reads the layout with statfs(2): cgroup2's magic at the root means
// unified; a tmpfs there holds v1 hierarchies, plus cgroup2 at ./unified
// on hybrid hosts.
func Mode() CgroupMode {
	var st unix.Statfs_t
	if err := unix.Statfs(Root, &st); err != nil {
		return Unavailable
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Unified
	}
	if st.Type != unix.TMPFS_MAGIC {
		return Unavailable
	}
	if err := unix.Statfs(Root+"/unified", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Hybrid
	}
	return Legacy
}

// Manager is one container's cgroup.
type Manager interface {
	// Set writes the limits; call it before Apply so they hold from the
	// first instruction the container runs.
	Set(r *specs.LinuxResources) error
	// Apply moves the process pid into the cgroup.
	Apply(pid int) error
	// Pids lists the processes in the cgroup.
	Pids() ([]int, error)
	// Freeze stops every process in the cgroup; Thaw resumes them.
	Freeze() error
	Thaw() error
	// Destroy removes the cgroup (it must hold no process); the shared
	// minibox parent stays. Removing one that is gone is not an error.
	Destroy() error
	// Path is the cgroup path, e.g. /minibox/ID.
	Path() string
}

// DefaultPath is where a container's cgroup goes when its spec names none.
func DefaultPath(id string) string { return path.Join("/minibox", id) }

// New returns the manager for cgroup path p on this host, creating the
// cgroup directories a container with resources r needs.
func New(p string, r *specs.LinuxResources) (Manager, error) {
	if !path.IsAbs(p) {
		return nil, fmt.Errorf("cgroup path %q: must be absolute", p)
	}
	switch Mode() {
	case Unified:
		return v2.New(Root, p)
	case Legacy, Hybrid:
		mounts, err := v1.Mounts()
		if err != nil {
			return nil, err
		}
		return v1.New(mounts, p, v1.Needed(r))
	}
	return nil, fmt.Errorf("no cgroup filesystem at %s", Root)
}

// Load returns the manager of an existing cgroup without creating it.
func Load(p string) (Manager, error) {
	switch Mode() {
	case Unified:
		return v2.Load(Root, p), nil
	case Legacy, Hybrid:
		mounts, err := v1.Mounts()
		if err != nil {
			return nil, err
		}
		return v1.Load(mounts, p), nil
	}
	return nil, fmt.Errorf("no cgroup filesystem at %s", Root)
}
