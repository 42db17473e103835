// Package rootfs builds the container's filesystem view inside its new
// mount namespace and makes it the root: propagation made private, the
// overlay (or a read-only bind) over the root filesystem, the spec's
// mounts (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, the
// cgroup tree), the device nodes and symlinks of /dev, pivot_root, then
// masked and read-only paths. With a user namespace but no network
// namespace of its own, the host's /sys is bound read-only instead of a
// new sysfs (which the kernel refuses there). ShiftDirs prepares the
// overlay's upper dir for a user namespace (run by the parent).
//
// Setup first computes the whole sequence as data (Plan returns []Op);
// a test compares that list without root. Run then performs each Op
// through the Syscalls interface, which the real kernel implements and a
// recording fake replaces in tests.
//
// Man pages: [mount(2)], [mount_namespaces(7)], [pivot_root(2)],
// [umount(2)], [mknod(2)], [mount_setattr(2)]; kernel docs: [overlayfs].
//
// [mount(2)]: https://man7.org/linux/man-pages/man2/mount.2.html
// [mount_namespaces(7)]: https://man7.org/linux/man-pages/man7/mount_namespaces.7.html
// [pivot_root(2)]: https://man7.org/linux/man-pages/man2/pivot_root.2.html
// [umount(2)]: https://man7.org/linux/man-pages/man2/umount.2.html
// [mknod(2)]: https://man7.org/linux/man-pages/man2/mknod.2.html
// [mount_setattr(2)]: https://man7.org/linux/man-pages/man2/mount_setattr.2.html
// [overlayfs]: https://docs.kernel.org/filesystems/overlayfs.html
package rootfs
