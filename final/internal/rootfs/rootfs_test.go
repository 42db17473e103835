package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"minibox.dev/final/internal/spec"
)

func testSpec() *specs.Spec {
	s := spec.Default()
	s.Root = &specs.Root{Path: "/r"}
	return s
}

func kinds(ops []Op) []string {
	var out []string
	for _, o := range ops {
		out = append(out, o.String())
	}
	return out
}

// TestPlanOrder: the whole sequence for docker's default container on a
// hybrid host, in order.
func TestPlanOrder(t *testing.T) {
	ops, err := Plan(Config{
		Spec: testSpec(), Rootfs: "/r",
		Overlay:  &Overlay{Upper: "/s/upper", Work: "/s/work", Merged: "/s/merged"},
		CgroupV1: map[string]string{"memory": "memory"}, CgroupV2: true,
	})
	assert.NilError(t, err)
	want := []string{
		"propagate /",
		"mount /s/merged <- overlay (overlay)",
		"mkdir /s/merged/proc", "mount /s/merged/proc <- proc (proc)",
		"mkdir /s/merged/dev", "mount /s/merged/dev <- tmpfs (tmpfs)",
		"mkdir /s/merged/dev/pts", "mount /s/merged/dev/pts <- devpts (devpts)",
		"mkdir /s/merged/dev/shm", "mount /s/merged/dev/shm <- shm (tmpfs)",
		"mkdir /s/merged/dev/mqueue", "mount /s/merged/dev/mqueue <- mqueue (mqueue)",
		"mkdir /s/merged/sys", "mount /s/merged/sys <- sysfs (sysfs)",
		"mkdir /s/merged/sys/fs/cgroup", "cgroup-v1 /s/merged/sys/fs/cgroup",
		"mknod /s/merged/dev/null", "mknod /s/merged/dev/zero", "mknod /s/merged/dev/full",
		"mknod /s/merged/dev/random", "mknod /s/merged/dev/urandom", "mknod /s/merged/dev/tty",
		"symlink /s/merged/dev/fd <- /proc/self/fd", "symlink /s/merged/dev/stdin <- /proc/self/fd/0",
		"symlink /s/merged/dev/stdout <- /proc/self/fd/1", "symlink /s/merged/dev/stderr <- /proc/self/fd/2",
		"symlink /s/merged/dev/core <- /proc/kcore", "symlink /s/merged/dev/ptmx <- pts/ptmx",
		"pivot /s/merged",
	}
	for _, p := range spec.MaskedPaths {
		want = append(want, "mask "+p)
	}
	for _, p := range spec.ReadonlyPaths {
		want = append(want, "readonly "+p)
	}
	if d := cmp.Diff(want, kinds(ops)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	assert.Equal(t, ops[1].Data, "lowerdir=/r,upperdir=/s/upper,workdir=/s/work")
	// /proc: nosuid,noexec,nodev as flags, nothing left for the data.
	assert.Equal(t, ops[3].Flags, uintptr(unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_NODEV))
	assert.Equal(t, ops[5].Data, "mode=755,size=65536k")
}

func TestPlanVariants(t *testing.T) {
	t.Run("read-only rootfs without overlay", func(t *testing.T) {
		s := testSpec()
		s.Root.Readonly = true
		ops, err := Plan(Config{Spec: s, Rootfs: "/r", Unified: true, CgroupV2: true})
		assert.NilError(t, err)
		k := kinds(ops)
		assert.Equal(t, k[1], "mount /r <- /r")
		assert.Equal(t, ops[1].Flags, uintptr(unix.MS_BIND|unix.MS_REC))
		assert.Equal(t, k[len(k)-1], "remount-ro /")
		assert.Check(t, cmp.Equal(k[15], "mount /r/sys/fs/cgroup <- cgroup2 (cgroup2)"), k[15])
	})
	t.Run("user namespace binds devices", func(t *testing.T) {
		ops, err := Plan(Config{Spec: testSpec(), Rootfs: "/r", UserNS: true, CgroupV1: map[string]string{"memory": "memory"},
			Overlay: &Overlay{Upper: "/u", Work: "/w", Merged: "/m"}})
		assert.NilError(t, err)
		k := strings.Join(kinds(ops), "\n")
		assert.Check(t, strings.Contains(k, "bind-dev /m/dev/null <- /dev/null"), k)
		assert.Check(t, !strings.Contains(k, "mknod"), k)
		assert.Check(t, !strings.Contains(k, "cgroup-v1"), "v1 cannot be mounted from a user namespace")
		assert.Check(t, strings.HasSuffix(ops[1].Data, ",userxattr"))
	})
	t.Run("user namespace without its own network binds the host's /sys", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			c       Config
			sys     []string
			cgroup  []string
			forbids string
		}{
			{"v1 host", Config{UserNS: true, CgroupV1: map[string]string{"memory": "memory"}, CgroupV2: true},
				[]string{"mount /m/sys <- /sys", "tree-ro /m/sys"},
				[]string{"mount /m/sys/fs/cgroup <- tmpfs (tmpfs)"}, "sysfs"},
			{"v2 host", Config{UserNS: true, Unified: true, CgroupV2: true},
				[]string{"mount /m/sys <- /sys", "tree-ro /m/sys"},
				[]string{"mount /m/sys/fs/cgroup <- tmpfs (tmpfs)", "mount /m/sys/fs/cgroup <- cgroup2 (cgroup2)"}, "sysfs"},
			{"own network", Config{UserNS: true, NewNet: true, CgroupV1: map[string]string{"memory": "memory"}},
				[]string{"mount /m/sys <- sysfs (sysfs)"}, nil, "tree-ro"},
			{"no user namespace", Config{CgroupV1: map[string]string{"memory": "memory"}},
				[]string{"mount /m/sys <- sysfs (sysfs)"}, []string{"cgroup-v1 /m/sys/fs/cgroup"}, "tree-ro"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := tc.c
				c.Spec, c.Rootfs = testSpec(), "/r"
				c.Overlay = &Overlay{Upper: "/u", Work: "/w", Merged: "/m"}
				ops, err := Plan(c)
				assert.NilError(t, err)
				k := kinds(ops)
				i := indexOf(k, "mkdir /m/sys")
				assert.Assert(t, i >= 0, k)
				assert.DeepEqual(t, k[i+1:i+1+len(tc.sys)], tc.sys)
				j := indexOf(k, "mkdir /m/sys/fs/cgroup")
				assert.Assert(t, j > i, k)
				if tc.cgroup != nil {
					assert.DeepEqual(t, k[j+1:j+1+len(tc.cgroup)], tc.cgroup)
				}
				assert.Check(t, !strings.Contains(strings.Join(k, "\n"), tc.forbids), k)
				if k[i+1] == "mount /m/sys <- /sys" {
					assert.Equal(t, ops[i+1].Flags, uintptr(unix.MS_BIND|unix.MS_REC))
				}
			})
		}
		// The recursive read-only is one mount_setattr(2) call.
		k := &recorder{}
		assert.NilError(t, Run(k, Config{Spec: testSpec(), Rootfs: "/r"}, []Op{{Kind: KTreeRO, Target: "/r/sys"}}))
		assert.DeepEqual(t, k.calls, []string{fmt.Sprintf("mount_setattr /r/sys %#x set=%#x", unix.AT_RECURSIVE, unix.MOUNT_ATTR_RDONLY)})
	})
	t.Run("bind mount with options is remounted", func(t *testing.T) {
		s := testSpec()
		s.Mounts = []specs.Mount{{Destination: "/data", Source: "/host/data", Type: "bind", Options: []string{"rbind", "ro", "rprivate"}}}
		ops, err := Plan(Config{Spec: s, Rootfs: "/r"})
		assert.NilError(t, err)
		assert.DeepEqual(t, kinds(ops[2:6]), []string{"mkdir /r/data <- /host/data", "mount /r/data <- /host/data", "mount /r/data", "propagate /r/data"})
		assert.Equal(t, ops[4].Flags, uintptr(unix.MS_BIND|unix.MS_REC|unix.MS_RDONLY|unix.MS_REMOUNT))
		assert.Equal(t, ops[5].Flags, uintptr(unix.MS_PRIVATE|unix.MS_REC))
	})
	t.Run("errors", func(t *testing.T) {
		s := testSpec()
		s.Mounts = []specs.Mount{{Destination: "rel", Type: "tmpfs"}}
		_, err := Plan(Config{Spec: s, Rootfs: "/r"})
		assert.ErrorContains(t, err, `mounts[0].destination "rel": must be absolute`)
		s.Mounts = []specs.Mount{{Destination: "/x", Source: "rel", Options: []string{"bind"}}}
		_, err = Plan(Config{Spec: s, Rootfs: "/r"})
		assert.ErrorContains(t, err, `bind source must be absolute`)
	})
}

func TestParseOptions(t *testing.T) {
	flags, prop, data, err := ParseOptions([]string{"ro", "nosuid", "rw", "noexec", "mode=755", "rslave", "size=1k"})
	assert.NilError(t, err)
	assert.Equal(t, flags, uintptr(unix.MS_NOSUID|unix.MS_NOEXEC))
	assert.Equal(t, prop, uintptr(unix.MS_SLAVE|unix.MS_REC))
	assert.Equal(t, data, "mode=755,size=1k")
}

// recorder is the fake kernel: it records calls instead of making them.
type recorder struct {
	calls []string
	dirs  map[string]bool // paths that Stat reports as directories
}

func (r *recorder) add(f string, a ...any) error {
	r.calls = append(r.calls, fmt.Sprintf(f, a...))
	return nil
}
func (r *recorder) Mount(src, dst, typ string, flags uintptr, data string) error {
	return r.add("mount %q %s %q %#x %q", src, dst, typ, flags, data)
}
func (r *recorder) Unmount(t string, flags int) error { return r.add("umount %s %#x", t, flags) }
func (r *recorder) Mknod(p string, mode uint32, dev int) error {
	return r.add("mknod %s %o %d", p, mode, dev)
}
func (r *recorder) Symlink(o, n string) error              { return r.add("symlink %s %s", o, n) }
func (r *recorder) MkdirAll(p string, _ os.FileMode) error { return r.add("mkdir %s", p) }
func (r *recorder) PivotRoot(n, o string) error            { return r.add("pivot_root %s %s", n, o) }
func (r *recorder) Chdir(p string) error                   { return r.add("chdir %s", p) }
func (r *recorder) WriteFile(p string, _ []byte) error     { return r.add("create %s", p) }
func (r *recorder) MountSetattr(p string, flags uint, a *unix.MountAttr) error {
	return r.add("mount_setattr %s %#x set=%#x", p, flags, a.Attr_set)
}
func (r *recorder) Statfs(p string, st *unix.Statfs_t) error {
	st.Flags = unix.MS_NOSUID | unix.MS_NODEV
	return nil
}
func (r *recorder) Stat(p string) (os.FileInfo, error) {
	isDir, ok := r.dirs[p]
	if !ok {
		return nil, os.ErrNotExist
	}
	return fakeInfo{isDir}, nil
}

type fakeInfo struct{ dir bool }

func (f fakeInfo) Name() string       { return "" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() os.FileMode  { return map[bool]os.FileMode{true: os.ModeDir}[f.dir] }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.dir }
func (f fakeInfo) Sys() any           { return nil }

// TestRunPivotAndMasks: the syscalls of the pivot and of masking, through
// the recording fake.
func TestRunPivotAndMasks(t *testing.T) {
	root := t.TempDir()
	k := &recorder{dirs: map[string]bool{"/sys/firmware": true, "/proc/keys": false, "/proc/sys": true}}
	c := Config{Spec: testSpec(), Rootfs: root}
	ops := []Op{
		{Kind: KPivot, Target: root},
		{Kind: KMask, Target: "/sys/firmware"}, {Kind: KMask, Target: "/proc/keys"}, {Kind: KMask, Target: "/proc/absent"},
		{Kind: KReadonly, Target: "/proc/sys"},
		{Kind: KRemountRO, Target: "/"},
	}
	assert.NilError(t, Run(k, c, ops))
	ro := unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV
	want := []string{
		"chdir " + root, "pivot_root . .", "umount . 0x2", "chdir /",
		fmt.Sprintf(`mount "tmpfs" /sys/firmware "tmpfs" %#x "size=0,mode=0555"`, unix.MS_RDONLY),
		fmt.Sprintf(`mount "/dev/null" /proc/keys "" %#x ""`, unix.MS_BIND),
		fmt.Sprintf(`mount "/proc/sys" /proc/sys "" %#x ""`, unix.MS_BIND|unix.MS_REC),
		fmt.Sprintf(`mount "" /proc/sys "" %#x ""`, ro),
		fmt.Sprintf(`mount "" / "" %#x ""`, ro),
	}
	if d := cmp.Diff(want, k.calls); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
}

// TestSecureJoin: symlinks in the rootfs resolve inside it.
func TestSecureJoin(t *testing.T) {
	root := t.TempDir()
	assert.NilError(t, os.MkdirAll(filepath.Join(root, "real/dir"), 0o755))
	for link, target := range map[string]string{
		"abs": "/real", "rel": "real/dir", "up": "../../../../etc", "loop": "loop", "dotdot": "real/../real/dir",
	} {
		assert.NilError(t, os.Symlink(target, filepath.Join(root, link)))
	}
	for _, tc := range []struct{ in, want string }{
		{"/real/dir", "/real/dir"},
		{"/abs/dir", "/real/dir"},
		{"/rel", "/real/dir"},
		{"/up/passwd", "/etc/passwd"},
		{"/../../etc", "/etc"},
		{"/dotdot/x", "/real/dir/x"},
		{"/missing/x", "/missing/x"},
	} {
		got, err := SecureJoin(root, tc.in)
		assert.NilError(t, err)
		assert.Check(t, got == filepath.Join(root, tc.want), "%s: got %s", tc.in, got)
	}
	_, err := SecureJoin(root, "/loop/x")
	assert.ErrorContains(t, err, "too many symlinks")
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
