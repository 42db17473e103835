package v2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/cgroups/cgroupfs"
)

// Controllers a container's cgroup gets enabled from its parents.
var Controllers = []string{"cpu", "cpuset", "memory", "pids"}

// Value is one write of Data into File of the container's cgroup.
type Value struct {
	File, Data string
}

// Manager is a container's cgroup in the unified hierarchy.
type Manager struct {
	root, path, dir string
}

// Load returns the manager of path under the cgroup2 mount root.
func Load(root, path string) *Manager {
	return &Manager{root: root, path: path, dir: filepath.Join(root, path)}
}

// New creates the cgroup, enabling the controllers in each ancestor's
// cgroup.subtree_control on the way down (a controller is usable in a
// cgroup only when its parent delegates it).
func New(root, path string) (*Manager, error) {
	m := Load(root, path)
	rel, err := filepath.Rel(root, m.dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("cgroup path %q escapes %s", path, root)
	}
	cur := root
	for _, part := range strings.Split(rel, "/") {
		if err := enableControllers(cur); err != nil {
			return nil, err
		}
		cur = filepath.Join(cur, part)
		if err := mkdirRetry(cur); err != nil {
			return nil, fmt.Errorf("create cgroup %s: %w", cur, err)
		}
	}
	return m, nil
}

func mkdirRetry(dir string) error {
	var err error
	for range 5 {
		if err = os.Mkdir(dir, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
			return nil
		}
		if !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	return err
}

// enableControllers writes "+name" for each wanted controller that dir
// has (cgroup.controllers) and does not yet delegate.
func enableControllers(dir string) error {
	have, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("read %s/cgroup.controllers: %w", dir, err)
	}
	on, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return fmt.Errorf("read %s/cgroup.subtree_control: %w", dir, err)
	}
	var add []string
	for _, c := range Controllers {
		if contains(string(have), c) && !contains(string(on), c) {
			add = append(add, "+"+c)
		}
	}
	if len(add) == 0 {
		return nil
	}
	return cgroupfs.Write(dir, "cgroup.subtree_control", strings.Join(add, " "))
}

func contains(list, word string) bool {
	for _, w := range strings.Fields(list) {
		if w == word {
			return true
		}
	}
	return false
}

func (m *Manager) Path() string { return m.path }

// Values turns resources into interface-file writes. Devices are not
// among them: see Devices.
func Values(r *specs.LinuxResources) ([]Value, error) {
	if r == nil {
		return nil, nil
	}
	var v []Value
	if m := r.Memory; m != nil {
		if m.Limit != nil {
			v = append(v, Value{"memory.max", limit(*m.Limit)})
		}
		// memory.swap.max counts swap alone; the spec's swap is
		// memory+swap as in v1, so subtract (runc does the same).
		if m.Swap != nil {
			switch {
			case *m.Swap == -1:
				v = append(v, Value{"memory.swap.max", "max"})
			case m.Limit == nil || *m.Limit <= 0:
				return nil, fmt.Errorf("linux.resources.memory.swap needs memory.limit on cgroup v2")
			case *m.Swap < *m.Limit:
				return nil, fmt.Errorf("linux.resources.memory.swap %d is below memory.limit %d", *m.Swap, *m.Limit)
			default:
				v = append(v, Value{"memory.swap.max", strconv.FormatInt(*m.Swap-*m.Limit, 10)})
			}
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		v = append(v, Value{"pids.max", limit(*p.Limit)})
	}
	if c := r.CPU; c != nil {
		if c.Quota != nil && *c.Quota != 0 {
			period := uint64(100000)
			if c.Period != nil && *c.Period != 0 {
				period = *c.Period
			}
			v = append(v, Value{"cpu.max", limit(*c.Quota) + " " + strconv.FormatUint(period, 10)})
		}
		if c.Shares != nil && *c.Shares != 0 {
			v = append(v, Value{"cpu.weight", strconv.FormatUint(SharesToWeight(*c.Shares), 10)})
		}
		if c.Cpus != "" {
			v = append(v, Value{"cpuset.cpus", c.Cpus})
		}
		if c.Mems != "" {
			v = append(v, Value{"cpuset.mems", c.Mems})
		}
	}
	return v, nil
}

// SharesToWeight maps v1 cpu.shares [2, 262144] onto v2 cpu.weight
// [1, 10000] linearly, the conversion runc and crun use.
func SharesToWeight(shares uint64) uint64 {
	if shares < 2 {
		shares = 2
	}
	if shares > 262144 {
		shares = 262144
	}
	return 1 + ((shares-2)*9999)/262142
}

func limit(n int64) string {
	if n <= 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}

// Set writes the values, then attaches the device program.
func (m *Manager) Set(r *specs.LinuxResources) error {
	vals, err := Values(r)
	if err != nil {
		return err
	}
	for _, v := range vals {
		if err := cgroupfs.Write(m.dir, v.File, v.Data); err != nil {
			return err
		}
	}
	if r != nil && len(r.Devices) > 0 {
		return AttachDeviceFilter(m.dir, r.Devices)
	}
	return nil
}

func (m *Manager) Apply(pid int) error {
	return cgroupfs.Write(m.dir, "cgroup.procs", strconv.Itoa(pid))
}

func (m *Manager) Pids() ([]int, error) {
	return cgroupfs.ReadPids(filepath.Join(m.dir, "cgroup.procs"))
}

// Freeze writes 1 to cgroup.freeze and waits for cgroup.events to say
// "frozen 1" (freezing completes asynchronously).
func (m *Manager) Freeze() error { return m.freeze("1") }
func (m *Manager) Thaw() error   { return m.freeze("0") }

func (m *Manager) freeze(v string) error {
	if err := cgroupfs.Write(m.dir, "cgroup.freeze", v); err != nil {
		return err
	}
	for range 1000 {
		b, err := os.ReadFile(filepath.Join(m.dir, "cgroup.events"))
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "frozen "+v) {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("cgroup %s: freeze=%s not reached", m.dir, v)
}

// Destroy removes the cgroup; the device program goes with it. The
// shared minibox parent stays (see v1's Destroy).
func (m *Manager) Destroy() error {
	if err := cgroupfs.Remove(m.dir); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", m.dir, err)
	}
	return nil
}
