package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// applySysctl writes linux.sysctl: each key (dots for slashes, as
// sysctl(8) takes it) goes to /proc/sys/KEY. It runs after init has its
// namespaces and before the root filesystem is set up, through the host's
// /proc: a namespaced sysctl file (net.*, kernel.shm*, ...) always acts on
// the namespace of the process that writes it, which is now the
// container's. spec.Validate has refused the keys that are not namespaced.
// (proc_sys(5), namespaces(7))
func applySysctl(sysctl map[string]string) error {
	keys := make([]string, 0, len(sysctl))
	for k := range sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable order, so errors are reproducible
	for _, k := range keys {
		p := filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/"))
		if err := os.WriteFile(p, []byte(sysctl[k]), 0); err != nil {
			return fmt.Errorf("linux.sysctl %s=%q: %w", k, sysctl[k], err)
		}
	}
	return nil
}

// applyOOMScoreAdj writes process.oomScoreAdj to /proc/self/oom_score_adj,
// which the program inherits across execve(2). Lowering it below the
// current value needs CAP_SYS_RESOURCE (proc(5)); the error says so.
func applyOOMScoreAdj(adj *int) error {
	if adj == nil {
		return nil
	}
	err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*adj)), 0)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return fmt.Errorf("process.oomScoreAdj %d: lowering the OOM score needs CAP_SYS_RESOURCE, which this process lacks", *adj)
	}
	if err != nil {
		return fmt.Errorf("process.oomScoreAdj %d: %w", *adj, err)
	}
	return nil
}
