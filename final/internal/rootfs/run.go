package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Syscalls is every kernel call the setup makes; Kernel is the real one,
// tests use a recording fake.
type Syscalls interface {
	Mount(source, target, fstype string, flags uintptr, data string) error
	Unmount(target string, flags int) error
	Mknod(path string, mode uint32, dev int) error
	Symlink(oldname, newname string) error
	MkdirAll(path string, perm os.FileMode) error
	PivotRoot(newroot, putold string) error
	Chdir(path string) error
	Stat(path string) (os.FileInfo, error)
	Statfs(path string, buf *unix.Statfs_t) error
	WriteFile(path string, data []byte) error
	MountSetattr(path string, flags uint, attr *unix.MountAttr) error
}

// Kernel implements Syscalls with the real system calls.
type Kernel struct{}

func (Kernel) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}
func (Kernel) Unmount(target string, flags int) error        { return unix.Unmount(target, flags) }
func (Kernel) Mknod(path string, mode uint32, dev int) error { return unix.Mknod(path, mode, dev) }
func (Kernel) Symlink(oldname, newname string) error         { return os.Symlink(oldname, newname) }
func (Kernel) MkdirAll(path string, perm os.FileMode) error  { return os.MkdirAll(path, perm) }
func (Kernel) PivotRoot(newroot, putold string) error        { return unix.PivotRoot(newroot, putold) }
func (Kernel) Chdir(path string) error                       { return unix.Chdir(path) }
func (Kernel) Stat(path string) (os.FileInfo, error)         { return os.Stat(path) }
func (Kernel) Statfs(path string, buf *unix.Statfs_t) error  { return unix.Statfs(path, buf) }
func (Kernel) WriteFile(path string, data []byte) error      { return os.WriteFile(path, data, 0o644) }
func (Kernel) MountSetattr(path string, flags uint, attr *unix.MountAttr) error {
	return unix.MountSetattr(unix.AT_FDCWD, path, flags, attr)
}

// Setup plans and runs the whole filesystem setup with the real kernel.
// It must run in the container's own mount namespace.
func Setup(c Config) error {
	ops, err := Plan(c)
	if err != nil {
		return err
	}
	return Run(Kernel{}, c, ops)
}

// Run performs ops. Paths inside the new root are resolved without
// leaving it (SecureJoin), so a symlink in an untrusted rootfs cannot
// redirect a mount onto the host.
func Run(k Syscalls, c Config, ops []Op) error {
	root := c.Rootfs
	if c.Overlay != nil {
		root = c.Overlay.Merged
	}
	inRoot := func(p string) (string, error) {
		rel, err := filepath.Rel(root, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			return p, nil // not below root (e.g. the root itself or "/")
		}
		return SecureJoin(root, rel)
	}
	cgroupDone := c.BeforeCgroup == nil
	for _, op := range ops {
		isCgroup := op.Kind == KCgroupV1 || (op.Kind == KMount && op.FSType == "cgroup2")
		if !cgroupDone && (isCgroup || op.Kind == KPivot) {
			if err := c.BeforeCgroup(); err != nil {
				return err
			}
			cgroupDone = true
		}
		if op.Kind == KPivot && c.BeforePivot != nil {
			if err := c.BeforePivot(); err != nil {
				return err
			}
		}
		if err := runOp(k, c, op, inRoot); err != nil {
			return err
		}
	}
	return nil
}

func runOp(k Syscalls, c Config, op Op, inRoot func(string) (string, error)) error {
	t := op.Target
	if op.Kind != KPivot && op.Kind != KPropagate && op.Kind != KMask && op.Kind != KReadonly && op.Kind != KRemountRO {
		var err error
		if t, err = inRoot(op.Target); err != nil {
			return err
		}
	}
	switch op.Kind {
	case KPropagate:
		// mount(2) with only propagation flags changes how mount events
		// travel between peers (mount_namespaces(7)).
		if err := k.Mount("", t, "", op.Flags, ""); err != nil {
			return fmt.Errorf("make %s private: %w", t, err)
		}
	case KMkdir:
		if op.Source != "" {
			if fi, err := k.Stat(op.Source); err == nil && !fi.IsDir() {
				return mkfile(k, t)
			}
		}
		if err := k.MkdirAll(t, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("mkdir %s: %w", t, err)
		}
	case KMount:
		// mount(2) attaches the filesystem at t, in this namespace only.
		if err := k.Mount(op.Source, t, op.FSType, op.Flags, op.Data); err != nil {
			return fmt.Errorf("mount %s %s on %s: %w", op.FSType, op.Source, t, hint(err, op))
		}
	case KCgroupV1:
		return mountCgroupV1(k, c, t, op.Flags)
	case KTreeRO:
		// mount_setattr(2) with AT_RECURSIVE sets MOUNT_ATTR_RDONLY on
		// the mount at t and on every mount below it, in one call; a
		// remount (mount(2) with MS_REMOUNT) would change only the top.
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := k.MountSetattr(t, unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("make %s read-only recursively: %w", t, err)
		}
	case KMknod:
		// mknod(2) creates the device node; the devices cgroup decides
		// whether it may be opened.
		if err := k.Mknod(t, op.Mode, int(op.Dev)); err != nil {
			return fmt.Errorf("mknod %s: %w", t, err)
		}
	case KBindDev:
		// A user namespace may not mknod(2): bind the host's node over an
		// empty file instead, as runc does for rootless containers.
		if err := k.WriteFile(t, nil); err != nil {
			return fmt.Errorf("create %s: %w", t, err)
		}
		if err := k.Mount(op.Source, t, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", op.Source, t, err)
		}
	case KSymlink:
		if err := k.Symlink(op.Source, t); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("symlink %s -> %s: %w", t, op.Source, err)
		}
	case KPivot:
		return pivot(k, t)
	case KMask:
		return mask(k, t)
	case KReadonly:
		return readonly(k, t)
	case KRemountRO:
		return remountRO(k, t)
	}
	return nil
}

// mkfile creates an empty file to bind a file on, unless one exists
// (writing it would truncate the rootfs's own file).
func mkfile(k Syscalls, t string) error {
	if _, err := k.Stat(t); err == nil {
		return nil
	}
	if err := k.MkdirAll(filepath.Dir(t), 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("mkdir %s: %w", filepath.Dir(t), err)
	}
	if err := k.WriteFile(t, nil); err != nil {
		return fmt.Errorf("create mount point %s: %w", t, err)
	}
	return nil
}

// hint adds the usual cause to a mount error a learner hits.
func hint(err error, op Op) error {
	if op.FSType == "overlay" && errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("%w (is the rootfs or the state dir itself on overlayfs? upper and work dirs cannot be)", err)
	}
	return err
}

// pivot makes root the container's / with pivot_root(2).
//
// pivot_root(".", ".") stacks the old root on top of the new one at the
// same place, so no put_old directory is needed (the rootfs may be
// read-only); umount2(MNT_DETACH) then drops the old root and with it
// every host path.
func pivot(k Syscalls, root string) error {
	if err := k.Chdir(root); err != nil {
		return fmt.Errorf("chdir %s: %w", root, err)
	}
	if err := k.PivotRoot(".", "."); err != nil {
		if errors.Is(err, unix.EINVAL) {
			// The cause learners hit most: the host's / is the initramfs
			// ("rootfs"), which pivot_root(2) cannot move.
			return fmt.Errorf("pivot_root %s: %w (is the host's / an initramfs? it cannot be pivoted away: switch_root to a real root first)", root, err)
		}
		return fmt.Errorf("pivot_root %s: %w", root, err)
	}
	// The old root is still shared with nothing (made private above), so
	// the detach cannot propagate to the host.
	if err := k.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("umount old root: %w", err)
	}
	if err := k.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// mask hides p: /dev/null bound over a file, an empty read-only tmpfs over
// a directory. A path this kernel lacks needs no mask.
func mask(k Syscalls, p string) error {
	fi, err := k.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mask %s: %w", p, err)
	}
	if fi.IsDir() {
		err = k.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0,mode=0555")
	} else {
		err = k.Mount("/dev/null", p, "", unix.MS_BIND, "")
	}
	if err != nil {
		return fmt.Errorf("mask %s: %w", p, err)
	}
	return nil
}

// readonly binds p on itself, then remounts that bind read-only.
func readonly(k Syscalls, p string) error {
	if _, err := k.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := k.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s read-only: %w", p, err)
	}
	return remountRO(k, p)
}

// remountRO remounts the mount at p read-only, keeping the flags it has:
// in a user namespace, dropping a locked flag (nosuid, nodev, noexec)
// would fail with EPERM.
func remountRO(k Syscalls, p string) error {
	var st unix.Statfs_t
	if err := k.Statfs(p, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", p, err)
	}
	keep := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
		unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME)
	if err := k.Mount("", p, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|keep, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", p, err)
	}
	return nil
}

// mountCgroupV1 rebuilds the host's v1 layout under dir: a tmpfs holding
// one cgroup mount per hierarchy. In the container's cgroup namespace
// each mount's root is the container's own cgroup, so neither the host's
// tree nor the hierarchy root's release_agent is reachable.
func mountCgroupV1(k Syscalls, c Config, dir string, flags uintptr) error {
	if err := k.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	names := make([]string, 0, len(c.CgroupV1))
	for n := range c.CgroupV1 {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := filepath.Join(dir, n)
		if err := k.MkdirAll(t, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", t, err)
		}
		if err := k.Mount("cgroup", t, "cgroup", flags, c.CgroupV1[n]); err != nil {
			return fmt.Errorf("mount cgroup %s on %s: %w", c.CgroupV1[n], t, err)
		}
	}
	if c.CgroupV2 {
		t := filepath.Join(dir, "unified")
		if err := k.MkdirAll(t, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", t, err)
		}
		if err := k.Mount("cgroup2", t, "cgroup2", flags, ""); err != nil {
			return fmt.Errorf("mount cgroup2 on %s: %w", t, err)
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		return remountRO(k, dir)
	}
	return nil
}

// SecureJoin resolves path below root as if root were /: ".." and
// absolute symlinks cannot climb out of it. The result is a host path.
func SecureJoin(root, path string) (string, error) {
	var resolved string // relative to root, cleaned
	rest := strings.Split(filepath.Clean("/"+path), "/")
	links := 0
	for len(rest) > 0 {
		part := rest[0]
		rest = rest[1:]
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			resolved = filepath.Dir("/" + resolved)[1:]
			continue
		}
		next := filepath.Join(resolved, part)
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			resolved = next // not a symlink, or does not exist yet
			continue
		}
		if links++; links > 40 {
			return "", fmt.Errorf("resolve %s in %s: too many symlinks", path, root)
		}
		if filepath.IsAbs(target) {
			resolved = ""
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return filepath.Join(root, resolved), nil
}
