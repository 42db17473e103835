package spec

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/security"
)

// RunOptions are the docker-like flags of `minibox run`, already parsed
// into values. FromRun turns them into a Spec.
type RunOptions struct {
	Rootfs      string   // absolute path of the root filesystem
	Args        []string // the command and its arguments
	Env         []string // KEY=VAL, added after the defaults (later wins)
	Workdir     string   // absolute path inside the container; "" means /
	UID, GID    uint32   // -u UID[:GID], already resolved to numbers
	Hostname    string   // "" means "minibox"
	ReadOnly    bool     // no overlay: the rootfs is mounted read-only
	Memory      int64    // bytes, 0 = unlimited
	MemorySwap  int64    // memory+swap bytes, 0 = unset, -1 = unlimited swap
	CPUs        float64  // number of CPUs of time (CFS quota), 0 = unlimited
	CPUShares   uint64   // relative weight (v1 shares; v2 weight is derived)
	CpusetCPUs  string   // e.g. "0-1" or "0,2"
	PidsLimit   int64    // 0 = unlimited
	Ulimits     []specs.POSIXRlimit
	Network     string // "none" (default: new netns, loopback up) or "host"
	TTY         bool   // -t: a pty is the process's stdio
	Interactive bool   // -i: keep stdin open
	UserNS      bool   // --userns: map root to an unprivileged host range
	Init        bool   // --init: minibox's init stays PID 1 and reaps
}

// Host IDs that --userns maps the container's 0..65535 onto: the same
// range Debian's /etc/subuid gives its first user.
const (
	UsernsHostID = 100000
	UsernsSize   = 65536
)

// CPUPeriod is the CFS period (µs) --cpus is expressed in, as docker does.
const CPUPeriod = 100000

// FromRun builds the spec `minibox run` runs: Default() plus docker's
// hardening (capabilities, devices, no_new_privs) and the flags. It is pure:
// no file is read, so it is table-tested without root.
func FromRun(o RunOptions) (*specs.Spec, error) {
	if len(o.Args) == 0 {
		return nil, fmt.Errorf("no command given")
	}
	if !filepath.IsAbs(o.Rootfs) {
		return nil, fmt.Errorf("rootfs %q: must be an absolute path", o.Rootfs)
	}
	s := Default()
	s.Root = &specs.Root{Path: o.Rootfs, Readonly: o.ReadOnly}
	s.Annotations = map[string]string{}
	if !o.ReadOnly {
		s.Annotations[AnnotationOverlay] = "true"
	}
	if o.Init {
		s.Annotations[AnnotationInit] = "true"
	}
	if o.Hostname != "" {
		s.Hostname = o.Hostname
	}

	p := s.Process
	p.Args = append([]string(nil), o.Args...)
	p.Terminal = o.TTY
	p.Env = []string{DefaultPath, "HOSTNAME=" + s.Hostname}
	if o.UID == 0 {
		p.Env = append(p.Env, "HOME=/root")
	}
	if o.TTY {
		p.Env = append(p.Env, "TERM=xterm")
	}
	p.Env = mergeEnv(p.Env, o.Env)
	p.Cwd = "/"
	if o.Workdir != "" {
		if !filepath.IsAbs(o.Workdir) {
			return nil, fmt.Errorf("workdir %q: must be an absolute path", o.Workdir)
		}
		p.Cwd = filepath.Clean(o.Workdir)
	}
	p.User = specs.User{UID: o.UID, GID: o.GID}
	// docker's default set is the bounding set for every user; root also
	// holds it. A non-root user starts with none (moby since 20.10).
	caps := append([]string(nil), DockerCapabilities...)
	p.Capabilities = &specs.LinuxCapabilities{Bounding: caps}
	if o.UID == 0 {
		p.Capabilities.Effective = caps
		p.Capabilities.Permitted = caps
	}
	p.Rlimits = append([]specs.POSIXRlimit(nil), o.Ulimits...)
	p.NoNewPrivileges = true
	s.Linux.Seccomp = security.DefaultProfile()

	r := &specs.LinuxResources{Devices: DockerDevices()}
	if o.Memory < 0 || (o.Memory > 0 && o.Memory < 6*1024*1024) {
		return nil, fmt.Errorf("memory %d: minimum is 6MiB", o.Memory)
	}
	if o.MemorySwap != 0 {
		if o.Memory == 0 {
			return nil, fmt.Errorf("memory-swap needs memory to be set too")
		}
		if o.MemorySwap != -1 && o.MemorySwap < o.Memory {
			return nil, fmt.Errorf("memory-swap %d: must be at least memory (%d) or -1", o.MemorySwap, o.Memory)
		}
	}
	if o.Memory > 0 {
		r.Memory = &specs.LinuxMemory{Limit: &o.Memory}
		if o.MemorySwap != 0 {
			r.Memory.Swap = &o.MemorySwap
		}
	}
	if o.PidsLimit < 0 {
		return nil, fmt.Errorf("pids-limit %d: must be positive", o.PidsLimit)
	}
	if o.PidsLimit > 0 {
		r.Pids = &specs.LinuxPids{Limit: &o.PidsLimit}
	}
	if o.CPUs < 0 || math.IsNaN(o.CPUs) || math.IsInf(o.CPUs, 0) {
		return nil, fmt.Errorf("cpus %v: must be a positive number", o.CPUs)
	}
	if o.CPUs > 0 || o.CPUShares > 0 || o.CpusetCPUs != "" {
		r.CPU = &specs.LinuxCPU{}
		if o.CPUs > 0 {
			quota := int64(math.Round(o.CPUs * CPUPeriod))
			if quota < 1000 {
				return nil, fmt.Errorf("cpus %v: minimum is 0.01", o.CPUs)
			}
			period := uint64(CPUPeriod)
			r.CPU.Quota, r.CPU.Period = &quota, &period
		}
		if o.CPUShares > 0 {
			if o.CPUShares < 2 || o.CPUShares > 262144 {
				return nil, fmt.Errorf("cpu-shares %d: must be between 2 and 262144", o.CPUShares)
			}
			sh := o.CPUShares
			r.CPU.Shares = &sh
		}
		if o.CpusetCPUs != "" {
			if err := checkCPUList(o.CpusetCPUs); err != nil {
				return nil, err
			}
			r.CPU.Cpus = o.CpusetCPUs
		}
	}
	s.Linux.Resources = r

	switch o.Network {
	case "", "none":
	case "host":
		s.Linux.Namespaces = removeNamespace(s.Linux.Namespaces, specs.NetworkNamespace)
	default:
		return nil, fmt.Errorf("network %q: must be none or host", o.Network)
	}
	if o.UserNS {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: UsernsHostID, Size: UsernsSize}}
		s.Linux.UIDMappings = m
		s.Linux.GIDMappings = append([]specs.LinuxIDMapping(nil), m...)
	}
	return s, nil
}

// mergeEnv appends KEY=VAL entries, replacing an earlier entry with the
// same KEY in place.
func mergeEnv(base, add []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range add {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range out {
			if ok, _, _ := strings.Cut(old, "="); ok == k {
				out[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

func removeNamespace(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, n := range ns {
		if n.Type != t {
			out = append(out, n)
		}
	}
	return out
}

// checkCPUList accepts the cpuset list format: "0", "0-3", "0,2-3".
func checkCPUList(list string) error {
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || b < a {
			return fmt.Errorf("cpuset-cpus %q: want a list like 0-2,4", list)
		}
	}
	return nil
}
