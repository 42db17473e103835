package rootfs

import (
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ShiftDirs prepares an overlay's upper directory for a container in a
// user namespace. The rootfs (the lower layer) belongs to host ids that
// the namespace does not map, so its directories show as nobody inside,
// and overlayfs refuses to copy one up (EOVERFLOW: the owner cannot be
// represented): the container's root could create files only in /.
//
// An overlay directory that exists in both layers takes its owner and
// mode from the upper one. So each directory of the rootfs is made again,
// empty, in upper, with its mode and with its owner shifted as the user
// namespace maps it (uid and gid give the host id of a container id):
// inside, the rootfs's directories belong to the container's root, and
// new files can be made anywhere. The rootfs is only read. Its files keep
// their owner: they still show as nobody and cannot be changed in place
// (that needs an idmapped mount of the lower layer).
func ShiftDirs(lower, upper string, uid, gid func(uint32) (uint32, bool)) error {
	return filepath.WalkDir(lower, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil // symlinks to directories included: not walked into
		}
		rel, err := filepath.Rel(lower, p)
		if err != nil || rel == "." {
			return err // upper itself is the root: Create owns it already
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		u, okU := uid(st.Uid)
		g, okG := gid(st.Gid)
		if !okU || !okG {
			return fs.SkipDir // not mapped: stays as it is, with all below
		}
		t := filepath.Join(upper, rel)
		// mkdir(2), lchown(2), chmod(2): chmod last, since the umask
		// narrows mkdir's mode and chown clears set-id bits.
		if err := unix.Mkdir(t, st.Mode&0o7777); err != nil {
			return fmt.Errorf("mkdir %s: %w", t, err)
		}
		if err := unix.Lchown(t, int(u), int(g)); err != nil {
			return fmt.Errorf("chown %s: %w", t, err)
		}
		if err := unix.Chmod(t, st.Mode&0o7777); err != nil {
			return fmt.Errorf("chmod %s: %w", t, err)
		}
		return nil
	})
}
