package cgroupfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Write writes data into the interface file of the cgroup directory dir.
func Write(dir, file, data string) error {
	p := filepath.Join(dir, file)
	// O_WRONLY without O_CREATE: an interface file is never created, and
	// one this kernel lacks is reported by name.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if errors.Is(err, os.ErrNotExist) {
		if _, derr := os.Stat(dir); derr == nil {
			return fmt.Errorf("cgroup file %s does not exist on this kernel%s", p, missingHint(file))
		}
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", data, p, err)
	}
	defer f.Close()
	if _, err := f.Write([]byte(data)); err != nil {
		return fmt.Errorf("write %q to %s: %w", data, p, err)
	}
	return nil
}

// missingHint says why an interface file may be missing.
func missingHint(file string) string {
	switch file {
	case "memory.memsw.limit_in_bytes", "memory.swap.max":
		return ": swap is not accounted (boot with swapaccount=1, or do not limit swap)"
	case "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.max":
		return ": the kernel has no CFS bandwidth control (CONFIG_CFS_BANDWIDTH; WSL2 lacks it), so --cpus cannot work"
	}
	return ""
}

// ReadPids reads a cgroup.procs file: the pids in the cgroup, one a line.
func ReadPids(file string) ([]int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// Remove removes the cgroup directory dir; one already gone is no error.
func Remove(dir string) error {
	for i := 0; ; i++ {
		// rmdir(2) is how a cgroup is removed; it fails with EBUSY
		// while it still has tasks, so that one error is retried
		// briefly.
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || i == 50 {
			return err
		}
		time.Sleep(time.Duration(i+1) * time.Millisecond)
	}
}
