package main

// Finding this process's cgroup limits on every cgroup layout
// (cgroups(7)):
//
//   - v2 (unified): one hierarchy at /sys/fs/cgroup; /proc/self/cgroup has
//     the single line "0::/PATH" and the limit is /sys/fs/cgroup/PATH/memory.max.
//   - v1 (legacy): one hierarchy per controller at /sys/fs/cgroup/CONTROLLER
//     (sometimes a joined name such as cpu,cpuacct); /proc/self/cgroup has
//     "ID:CONTROLLERS:/PATH" per hierarchy.
//   - hybrid: the v1 layout plus cgroup2 at /sys/fs/cgroup/unified, usually
//     holding no controllers, so the v1 hierarchy is the one that counts.
//
// In a cgroup namespace (cgroup_namespaces(7)) the paths are relative to the
// namespace's root, usually "/", and a cgroupfs mounted inside it shows that
// same cgroup at its top, so the lookup is the same. The real root cgroup has
// no limit files at all: there the limit is "max".

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// cgroupLine is one line of /proc/self/cgroup: "ID:CONTROLLERS:PATH".
type cgroupLine struct {
	ID          string   // hierarchy ID; "0" for cgroup v2
	Controllers []string // v1 controllers of the hierarchy; empty for v2
	Path        string   // the cgroup, relative to the hierarchy's root
}

// parseCgroup parses the content of /proc/self/cgroup. Empty content means
// the file could not be read (procfs missing).
func parseCgroup(data string) ([]cgroupLine, error) {
	data = strings.TrimSpace(data)
	if data == "" {
		return nil, errors.New("no cgroup lines")
	}
	var lines []cgroupLine
	for _, line := range strings.Split(data, "\n") {
		// The path may itself contain ':', so split in three at most.
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			return nil, fmt.Errorf("bad cgroup line %q", line)
		}
		var controllers []string
		if parts[1] != "" {
			controllers = strings.Split(parts[1], ",")
		}
		lines = append(lines, cgroupLine{ID: parts[0], Controllers: controllers, Path: parts[2]})
	}
	return lines, nil
}

// cgroupDir is where one controller's files for this process live.
type cgroupDir struct {
	Path   string // directory of the process's cgroup
	AtRoot bool   // the cgroup is its hierarchy's root (no limit files)
	V2     bool   // the directory is in the cgroup2 hierarchy
}

// findCgroupDir returns the directory of this process's cgroup for
// controller below root (normally /sys/fs/cgroup). v1 is tried first: on a
// hybrid host the controllers are on v1 while cgroup2 is mounted too.
func findCgroupDir(root string, lines []cgroupLine, controller string) (cgroupDir, bool) {
	for _, l := range lines {
		if !slices.Contains(l.Controllers, controller) {
			continue
		}
		// The mount is named after the controller, or after all of the
		// hierarchy's controllers joined (cpu,cpuacct); try both.
		for _, name := range []string{controller, strings.Join(l.Controllers, ",")} {
			mount := filepath.Join(root, name)
			if isDir(mount) {
				return cgroupDir{Path: filepath.Join(mount, l.Path), AtRoot: l.Path == "/"}, true
			}
		}
	}
	for _, l := range lines {
		if l.ID != "0" || len(l.Controllers) != 0 {
			continue
		}
		// cgroup2 is at root on a v2 host and at root/unified on a hybrid
		// one. Its cgroup.controllers lists the controllers it holds.
		for _, mount := range []string{root, filepath.Join(root, "unified")} {
			avail, err := os.ReadFile(filepath.Join(mount, "cgroup.controllers"))
			if err == nil && slices.Contains(strings.Fields(string(avail)), controller) {
				return cgroupDir{Path: filepath.Join(mount, l.Path), AtRoot: l.Path == "/", V2: true}, true
			}
		}
	}
	return cgroupDir{}, false
}

// readLimit reads one limit file of a cgroup. The root cgroup has no limit
// files: a missing file there means "max".
func readLimit(d cgroupDir, file string) string {
	data, err := os.ReadFile(filepath.Join(d.Path, file))
	if err == nil {
		return strings.TrimSpace(string(data))
	}
	if errors.Is(err, os.ErrNotExist) && d.AtRoot && isDir(d.Path) {
		return "max"
	}
	return unavailable
}

// memoryMax is memory.max (v2) or memory.limit_in_bytes (v1), in bytes or
// "max".
func memoryMax(root string, lines []cgroupLine) string {
	d, ok := findCgroupDir(root, lines, "memory")
	if !ok {
		return unavailable
	}
	if d.V2 {
		return readLimit(d, "memory.max")
	}
	v := readLimit(d, "memory.limit_in_bytes")
	// v1 writes "no limit" as the largest page-aligned 64-bit value
	// (9223372036854771712); anything that large is no limit at all.
	if n, err := strconv.ParseUint(v, 10, 64); err == nil && n >= 1<<62 {
		return "max"
	}
	return v
}

// pidsMax is pids.max, the same file on v1 and v2.
func pidsMax(root string, lines []cgroupLine) string {
	d, ok := findCgroupDir(root, lines, "pids")
	if !ok {
		return unavailable
	}
	return readLimit(d, "pids.max")
}

// cpuMax is v2's cpu.max ("QUOTA PERIOD", QUOTA may be "max") or, on v1,
// "cfs_quota_us cfs_period_us" (QUOTA is -1 when unlimited).
func cpuMax(root string, lines []cgroupLine) string {
	d, ok := findCgroupDir(root, lines, "cpu")
	if !ok {
		return unavailable
	}
	if d.V2 {
		return readLimit(d, "cpu.max")
	}
	quota := readLimit(d, "cpu.cfs_quota_us")
	period := readLimit(d, "cpu.cfs_period_us")
	if quota == unavailable || period == unavailable {
		return unavailable
	}
	// At the root cgroup both files are missing (readLimit says "max").
	if quota == "max" && period == "max" {
		return "max"
	}
	return quota + " " + period
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
