package rootfs

import (
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Kind is what an Op does.
type Kind string

const (
	KMount     Kind = "mount"      // mount(2) Source on Target
	KRemountRO Kind = "remount-ro" // make the mount at Target read-only
	KPropagate Kind = "propagate"  // change propagation of Target (Flags)
	KMkdir     Kind = "mkdir"      // create Target (inside the new root)
	KMknod     Kind = "mknod"      // create device node Target
	KBindDev   Kind = "bind-dev"   // bind the host's device Source on Target
	KSymlink   Kind = "symlink"    // Target -> Source
	KPivot     Kind = "pivot"      // pivot_root into Target, drop the old root
	KMask      Kind = "mask"       // hide Target (/dev/null or empty tmpfs)
	KReadonly  Kind = "readonly"   // bind Target on itself, read-only
	KCgroupV1  Kind = "cgroup-v1"  // the v1 hierarchies under Target
	KTreeRO    Kind = "tree-ro"    // make Target and every mount below it read-only
)

// Op is one step of the filesystem setup. Targets before the pivot are
// host paths inside the new root; after it, container paths.
type Op struct {
	Kind   Kind
	Source string
	Target string
	FSType string
	Flags  uintptr
	Data   string
	Mode   uint32 // file type and permissions for mknod
	Dev    uint64 // device number for mknod
}

func (o Op) String() string {
	s := fmt.Sprintf("%s %s", o.Kind, o.Target)
	if o.Source != "" {
		s += " <- " + o.Source
	}
	if o.FSType != "" {
		s += " (" + o.FSType + ")"
	}
	return s
}

// Overlay names the directories of the copy-on-write layer.
type Overlay struct {
	Upper, Work, Merged string
}

// Config is what Plan needs beyond the spec.
type Config struct {
	Spec    *specs.Spec
	Rootfs  string   // the lower (or only) root filesystem on the host
	Overlay *Overlay // nil: bind the rootfs itself
	UserNS  bool     // no mknod in a user namespace: bind host nodes
	// NewNet is true when the container gets a network namespace of its
	// own. sysfs may be mounted only by a user namespace that owns the
	// network namespace (its net/ directories belong to it): with a user
	// namespace but the host's network (or one joined by path), the
	// host's /sys is bound read-only instead, as runc does.
	NewNet bool
	// CgroupV1 lists the host's v1 hierarchies as name -> mount options
	// (e.g. "cpu,cpuacct" -> "cpu,cpuacct"); empty on cgroup v2 hosts.
	CgroupV1 map[string]string
	// CgroupV2 is true when the host has cgroup2 (alone or hybrid).
	CgroupV2 bool
	Unified  bool // cgroup v2 only
	// BeforePivot, when set, runs after every mount and just before
	// pivot_root: the point where the OCI createRuntime and
	// createContainer hooks belong.
	BeforePivot func() error
	// BeforeCgroup, when set, runs once before the first cgroup mount,
	// or before pivot_root when there is none: init waits there until it
	// is in its cgroup, and unshares its cgroup namespace.
	BeforeCgroup func() error
}

// defaultDevices are the nodes every container gets (runc's list).
var defaultDevices = []struct {
	name         string
	major, minor uint32
}{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

// Plan computes every step of the setup, in order. Ordering rules:
//   - propagation is made private first, or mounts below would show up
//     on the host when / is shared (systemd);
//   - a mount comes after the mount of its parent directory (the spec
//     lists /dev before /dev/pts);
//   - device nodes come after /dev's tmpfs, and before pivot_root (the
//     host's nodes must still be reachable for the bind fallback);
//   - masked and read-only paths come after pivot_root, on the
//     container's own /proc and /sys;
//   - the root is made read-only last, when nothing needs writing.
func Plan(c Config) ([]Op, error) {
	s := c.Spec
	root := c.Rootfs
	// mount(2) with MS_REC|MS_PRIVATE: no mount event propagates between
	// the container's namespace and the host's from here on.
	ops := []Op{{Kind: KPropagate, Target: "/", Flags: unix.MS_REC | unix.MS_PRIVATE}}
	if c.Overlay != nil {
		data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", c.Rootfs, c.Overlay.Upper, c.Overlay.Work)
		if c.UserNS {
			data += ",userxattr"
		}
		root = c.Overlay.Merged
		ops = append(ops, Op{Kind: KMount, Source: "overlay", Target: root, FSType: "overlay", Data: data})
	} else {
		// pivot_root(2) needs the new root to be a mount point: bind it
		// on itself.
		ops = append(ops, Op{Kind: KMount, Source: root, Target: root, Flags: unix.MS_BIND | unix.MS_REC})
	}

	var devTmpfs, hostSys bool
	for i, m := range s.Mounts {
		if !filepath.IsAbs(m.Destination) {
			return nil, fmt.Errorf("mounts[%d].destination %q: must be absolute", i, m.Destination)
		}
		dest := filepath.Join(root, m.Destination)
		flags, prop, data, err := ParseOptions(m.Options)
		if err != nil {
			return nil, fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
		}
		mountpoint := Op{Kind: KMkdir, Target: dest}
		if flags&unix.MS_BIND != 0 {
			// A bind mount of a file needs a file to mount on: runOp
			// checks the source (podman binds /etc/hosts, /etc/hostname).
			mountpoint.Source = m.Source
		}
		ops = append(ops, mountpoint)
		switch {
		case m.Type == "sysfs" && c.UserNS && !c.NewNet:
			// mount(2) of sysfs fails with EPERM here (see NewNet): a
			// recursive bind of the host's /sys stands in, read-only
			// all the way down when the spec asks for ro, so that no
			// mount below it (the host's cgroupfs, debugfs, ...) stays
			// writable.
			hostSys = true
			ops = append(ops, Op{Kind: KMount, Source: "/sys", Target: dest, Flags: unix.MS_BIND | unix.MS_REC})
			if flags&unix.MS_RDONLY != 0 {
				ops = append(ops, Op{Kind: KTreeRO, Target: dest})
			}
		case m.Type == "cgroup" || m.Type == "cgroup2":
			if hostSys {
				// The host's /sys just bound shows the host's whole
				// cgroup tree here: an empty read-only tmpfs hides it.
				// It also keeps cgroup2 below from landing on the
				// host's cgroup2 mount: the same filesystem mounted
				// on itself fails with EBUSY.
				ops = append(ops, Op{Kind: KMount, Source: "tmpfs", Target: dest, FSType: "tmpfs",
					Flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Data: "size=0,mode=0555"})
			}
			if c.Unified || (m.Type == "cgroup2" && c.CgroupV2) {
				ops = append(ops, Op{Kind: KMount, Source: "cgroup2", Target: dest, FSType: "cgroup2", Flags: flags})
			} else if len(c.CgroupV1) > 0 && !c.UserNS {
				ops = append(ops, Op{Kind: KCgroupV1, Target: dest, Flags: flags})
			}
			// v1 cannot be mounted from a user namespace: the
			// directory stays empty.
		case flags&unix.MS_BIND != 0:
			src := m.Source
			if !filepath.IsAbs(src) {
				return nil, fmt.Errorf("mounts[%d].source %q: bind source must be absolute", i, src)
			}
			ops = append(ops, Op{Kind: KMount, Source: src, Target: dest, Flags: flags & (unix.MS_BIND | unix.MS_REC)})
			if flags&^(unix.MS_BIND|unix.MS_REC) != 0 {
				// A bind mount ignores other flags; they take a remount.
				ops = append(ops, Op{Kind: KMount, Target: dest, Flags: flags | unix.MS_REMOUNT})
			}
		default:
			ops = append(ops, Op{Kind: KMount, Source: m.Source, Target: dest, FSType: m.Type, Flags: flags, Data: data})
		}
		if prop != 0 {
			ops = append(ops, Op{Kind: KPropagate, Target: dest, Flags: prop})
		}
		if m.Destination == "/dev" && m.Type == "tmpfs" {
			devTmpfs = true
		}
	}

	if devTmpfs {
		dev := filepath.Join(root, "dev")
		for _, d := range defaultDevices {
			t := filepath.Join(dev, d.name)
			if c.UserNS {
				ops = append(ops, Op{Kind: KBindDev, Source: "/dev/" + d.name, Target: t})
			} else {
				ops = append(ops, Op{Kind: KMknod, Target: t, Mode: unix.S_IFCHR | 0o666, Dev: unix.Mkdev(d.major, d.minor)})
			}
		}
		for _, l := range [][2]string{
			{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
			{"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"}, {"pts/ptmx", "ptmx"},
		} {
			ops = append(ops, Op{Kind: KSymlink, Source: l[0], Target: filepath.Join(dev, l[1])})
		}
	}

	ops = append(ops, Op{Kind: KPivot, Target: root})
	for _, p := range s.Linux.MaskedPaths {
		ops = append(ops, Op{Kind: KMask, Target: p})
	}
	for _, p := range s.Linux.ReadonlyPaths {
		ops = append(ops, Op{Kind: KReadonly, Target: p})
	}
	if s.Root.Readonly {
		ops = append(ops, Op{Kind: KRemountRO, Target: "/"})
	}
	return ops, nil
}

var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"dirsync": {false, unix.MS_DIRSYNC}, "remount": {false, unix.MS_REMOUNT},
	"mand": {false, unix.MS_MANDLOCK}, "nomand": {true, unix.MS_MANDLOCK},
	"atime": {true, unix.MS_NOATIME}, "noatime": {false, unix.MS_NOATIME},
	"diratime": {true, unix.MS_NODIRATIME}, "nodiratime": {false, unix.MS_NODIRATIME},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
}

var propagationFlags = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// ParseOptions splits mount options into mount(2) flags, propagation
// flags and the filesystem's own data string ("mode=755,size=65536k").
func ParseOptions(opts []string) (flags, prop uintptr, data string, err error) {
	var rest []string
	for _, o := range opts {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		if p, ok := propagationFlags[o]; ok {
			prop |= p
			continue
		}
		if o == "" || strings.ContainsAny(o, " \t\n") {
			return 0, 0, "", fmt.Errorf("bad mount option %q", o)
		}
		rest = append(rest, o)
	}
	return flags, prop, strings.Join(rest, ","), nil
}
