package v1

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/cgroups/cgroupfs"
)

// cpuset pins the container to CPUs and memory nodes.
func cpuset(r *specs.LinuxResources) ([]Value, error) {
	c := r.CPU
	if c == nil {
		return nil, nil
	}
	var v []Value
	if c.Cpus != "" {
		v = append(v, Value{"cpuset", "cpuset.cpus", c.Cpus})
	}
	if c.Mems != "" {
		v = append(v, Value{"cpuset", "cpuset.mems", c.Mems})
	}
	return v, nil
}

// initCpuset fills empty cpuset.cpus and cpuset.mems from the parent, top
// down: a v1 cpuset cgroup starts with both empty, and no task can join it
// then (write to cgroup.procs fails with ENOSPC).
func initCpuset(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return err
	}
	cur := root
	for _, part := range strings.Split(rel, "/") {
		parent := cur
		cur = filepath.Join(cur, part)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			b, err := os.ReadFile(filepath.Join(cur, f))
			if err != nil {
				return fmt.Errorf("read %s: %w", filepath.Join(cur, f), err)
			}
			if strings.TrimSpace(string(b)) != "" {
				continue
			}
			pb, err := os.ReadFile(filepath.Join(parent, f))
			if err != nil {
				return fmt.Errorf("read %s: %w", filepath.Join(parent, f), err)
			}
			if err := cgroupfs.Write(cur, f, strings.TrimSpace(string(pb))); err != nil {
				return err
			}
		}
	}
	return nil
}
