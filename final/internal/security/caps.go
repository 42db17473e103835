package security

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// capNames maps the spec's capability names to their numbers
// (linux/capability.h).
var capNames = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// CapNumber returns the number of a capability name such as "CAP_KILL".
func CapNumber(name string) (int, bool) {
	n, ok := capNames[strings.ToUpper(name)]
	return n, ok
}

// CapSet is a capability bit mask (bit N = capability N).
type CapSet uint64

// ParseCaps turns names into a mask; an unknown name is an error.
func ParseCaps(field string, names []string) (CapSet, error) {
	var s CapSet
	for _, n := range names {
		c, ok := CapNumber(n)
		if !ok {
			return 0, fmt.Errorf("process.capabilities.%s: unknown capability %q", field, n)
		}
		s |= 1 << c
	}
	return s, nil
}

// Caps are the five sets of a process, as masks.
type Caps struct {
	Bounding, Effective, Permitted, Inheritable, Ambient CapSet
}

// CapsFromSpec parses every set of the spec.
func CapsFromSpec(c *specs.LinuxCapabilities) (Caps, error) {
	var out Caps
	if c == nil {
		return out, nil
	}
	var err error
	for _, f := range []struct {
		name  string
		names []string
		dst   *CapSet
	}{
		{"bounding", c.Bounding, &out.Bounding},
		{"effective", c.Effective, &out.Effective},
		{"permitted", c.Permitted, &out.Permitted},
		{"inheritable", c.Inheritable, &out.Inheritable},
		{"ambient", c.Ambient, &out.Ambient},
	} {
		if *f.dst, err = ParseCaps(f.name, f.names); err != nil {
			return out, err
		}
	}
	return out, nil
}

// lastCap is the highest capability this kernel knows, read once from
// /proc/sys/kernel/cap_last_cap.
var lastCap = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 40
	}
	return n
})

// DropBounding removes every capability outside keep from the bounding
// set with prctl(PR_CAPBSET_DROP): no later execve(2), even of a setuid
// or file-capability binary, can get it back. Needs CAP_SETPCAP, so it
// happens while init is still full root.
func DropBounding(keep CapSet) error {
	for c := 0; c <= lastCap(); c++ {
		if keep&(1<<c) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_CAPBSET_DROP, %d): %w", c, err)
		}
	}
	return nil
}

// Apply sets the permitted, effective and inheritable sets with capset(2),
// then raises the ambient ones (prctl PR_CAP_AMBIENT), which survive
// execve(2) for a non-root user.
func Apply(c Caps) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for i := range 2 {
		data[i].Effective = uint32(c.Effective >> (32 * i))
		data[i].Permitted = uint32(c.Permitted >> (32 * i))
		data[i].Inheritable = uint32(c.Inheritable >> (32 * i))
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	for n := 0; n <= lastCap(); n++ {
		if c.Ambient&(1<<n) == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(n), 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_CAP_AMBIENT_RAISE, %d): %w", n, err)
		}
	}
	return nil
}

// KeepCaps makes setuid(2) from root keep the permitted set (effective
// is still cleared), so Apply can set the spec's sets for a non-root user.
func KeepCaps() error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS): %w", err)
	}
	return nil
}

// NoNewPrivs sets no_new_privs: execve(2) can no longer grant privileges
// (setuid bits and file capabilities are ignored). It also lets an
// unprivileged process install a seccomp filter.
func NoNewPrivs() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	return nil
}

// HasEffective reports whether the calling thread has capability c in
// its effective set.
func HasEffective(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}
