package v1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/cgroups/cgroupfs"
)

// Controllers a container joins. cpuacct and freezer carry no limit but
// give accounting and pause/resume.
var Controllers = []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer"}

// Value is one write: Data goes into File of Controller's directory.
// Resources become a []Value first, so tests compare them as data.
type Value struct {
	Controller, File, Data string
}

// Manager is a container's cgroup in every v1 hierarchy.
type Manager struct {
	path string
	dirs map[string]string // controller -> directory of this cgroup
	root map[string]string // controller -> hierarchy mount point
}

// Mounts finds each controller's mount point in /proc/self/mountinfo
// (proc(5)): fields 5 (mount point) and, after " - ", the fs type and
// super options, which list the controllers (e.g. "rw,cpu,cpuacct").
func Mounts() (map[string]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMountinfo(f)
}

func parseMountinfo(f io.Reader) (map[string]string, error) {
	mounts, err := cgroupMounts(f)
	out := map[string]string{}
	for _, m := range mounts {
		for _, opt := range strings.Split(m.opts, ",") {
			for _, c := range Controllers {
				if opt == c {
					if _, dup := out[c]; !dup {
						out[c] = m.point
					}
				}
			}
		}
	}
	return out, err
}

// cgroupMount is one v1 hierarchy's line of mountinfo: its mount point
// (field 5) and its super options, which name its controllers.
type cgroupMount struct{ point, opts string }

// cgroupMounts lists the cgroup (v1) mounts in mountinfo (proc(5)), in
// order; the fields after " - " are the fs type, source and super options.
func cgroupMounts(f io.Reader) ([]cgroupMount, error) {
	var out []cgroupMount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 5 || len(b) < 3 || b[0] != "cgroup" {
			continue
		}
		out = append(out, cgroupMount{point: a[4], opts: b[2]})
	}
	return out, sc.Err()
}

// Needed lists the controllers a container with resources r joins:
// memory, pids, cpu, devices and freezer always (limits, the device
// allow list, pause); cpuset only when CPUs or memory nodes are set,
// since an unrestricted cpuset is only the parent's; cpuacct only where
// it is mounted together with cpu (then joining cpu joins it).
func Needed(r *specs.LinuxResources) []string {
	out := []string{"cpu", "memory", "pids", "devices", "freezer"}
	if r != nil && r.CPU != nil && (r.CPU.Cpus != "" || r.CPU.Mems != "") {
		out = append(out, "cpuset")
	}
	return out
}

// New creates path in the hierarchies of the given controllers (those
// mounted). cpuset needs cpus and mems copied down before a task may join
// (cpuset(7)).
func New(mounts map[string]string, path string, controllers []string) (*Manager, error) {
	m := &Manager{path: path, dirs: map[string]string{}, root: mounts}
	for _, c := range controllers {
		mnt, ok := mounts[c]
		if !ok {
			continue
		}
		dir := filepath.Join(mnt, path)
		m.dirs[c] = dir
		if err := mkdirRetry(dir); err != nil {
			return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		if c == "cpuset" {
			if err := initCpuset(mnt, dir); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// mkdirRetry is MkdirAll that survives another container removing an
// empty shared parent (/minibox) between our mkdirs.
func mkdirRetry(dir string) error {
	var err error
	for range 5 {
		if err = os.MkdirAll(dir, 0o755); !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	return err
}

// Load returns the manager of path without creating anything. Only the
// hierarchies where the cgroup exists count: New creates only the ones a
// container needs, and Apply (`minibox exec` joining the container) must
// not write to the others.
func Load(mounts map[string]string, path string) *Manager {
	m := &Manager{path: path, dirs: map[string]string{}, root: mounts}
	for c, mnt := range mounts {
		dir := filepath.Join(mnt, path)
		if _, err := os.Stat(dir); err == nil {
			m.dirs[c] = dir
		}
	}
	return m
}

func (m *Manager) Path() string { return m.path }

// Values turns resources into writes, in the order they must happen.
func Values(r *specs.LinuxResources) ([]Value, error) {
	if r == nil {
		return nil, nil
	}
	var v []Value
	for _, f := range []func(*specs.LinuxResources) ([]Value, error){memory, pids, cpu, cpuset, devices} {
		x, err := f(r)
		if err != nil {
			return nil, err
		}
		v = append(v, x...)
	}
	return v, nil
}

// Set writes the resources' values.
func (m *Manager) Set(r *specs.LinuxResources) error {
	vals, err := Values(r)
	if err != nil {
		return err
	}
	for _, v := range vals {
		dir, ok := m.dirs[v.Controller]
		if !ok {
			return fmt.Errorf("cgroup v1 controller %s is not mounted", v.Controller)
		}
		if err := cgroupfs.Write(dir, v.File, v.Data); err != nil {
			return err
		}
	}
	return nil
}

// Apply writes pid to cgroup.procs in each hierarchy, which moves the
// whole process (all its threads) there.
func (m *Manager) Apply(pid int) error {
	done := map[string]bool{}
	for _, c := range Controllers {
		// Co-mounted controllers (cpu,cpuacct) share one directory.
		if dir, ok := m.dirs[c]; ok && !done[dir] {
			done[dir] = true
			if err := cgroupfs.Write(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manager) Pids() ([]int, error) {
	dir, ok := m.dirs["pids"]
	if !ok {
		dir, ok = m.dirs["memory"]
	}
	if !ok {
		return nil, fmt.Errorf("no pids or memory cgroup mounted")
	}
	return cgroupfs.ReadPids(filepath.Join(dir, "cgroup.procs"))
}

// Destroy removes the cgroup from every hierarchy (cgroupfs.Remove
// retries while a task is still leaving it). The shared minibox parent
// stays, as docker's docker cgroup does: removing it would race with
// other containers creating theirs, and re-creating it costs every run.
func (m *Manager) Destroy() error {
	// Sorted, once per directory (cpu and cpuacct may share one): the same
	// rmdir(2) calls in the same order on every run.
	var errs []error
	done := map[string]bool{}
	for _, c := range slices.Sorted(maps.Keys(m.dirs)) {
		dir := m.dirs[c]
		if done[dir] {
			continue
		}
		done[dir] = true
		if err := cgroupfs.Remove(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// Hierarchies lists the host's v1 hierarchies that hold one of the
// joined controllers, as mount-point name -> mount options ("cpu,cpuacct",
// "memory"), so the container can mount them at its /sys/fs/cgroup. The
// others (blkio, name=systemd) are left out: the container is not in a
// cgroup of its own there, and its cgroup namespace would show the host's
// tree and the hierarchy root's release_agent.
func Hierarchies(joined []string) (map[string]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mounts, err := cgroupMounts(f)
	out := map[string]string{}
	for _, m := range mounts {
		var opts []string
		for _, o := range strings.Split(m.opts, ",") {
			if o != "rw" && o != "ro" {
				opts = append(opts, o)
			}
		}
		if Joined(strings.Join(opts, ","), joined) {
			out[filepath.Base(m.point)] = strings.Join(opts, ",")
		}
	}
	return out, err
}

// Joined reports whether a hierarchy with these mount options holds one
// of the controllers.
func Joined(opts string, controllers []string) bool {
	for _, o := range strings.Split(opts, ",") {
		for _, c := range controllers {
			if o == c {
				return true
			}
		}
	}
	return false
}
