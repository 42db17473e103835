// podman drives minibox as its OCI runtime, through conmon, as it would
// drive runc. The test skips, saying why, when podman is not installed.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/icmd"
	"gotest.tools/v3/skip"
)

// needTools skips unless every named program is installed.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		_, err := exec.LookPath(tool)
		skip.If(t, err != nil, "needs %s (apt-get install %s; scripts/test installs it)", tool, tool)
	}
}

// shortTemp is a temporary directory with a short path: conmon's attach
// socket lives below podman's --runroot, and a unix socket path must fit
// in 108 bytes.
func shortTemp(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	assert.NilError(t, err)
	t.Cleanup(func() {
		unmountBelow(t, dir)
		os.RemoveAll(dir)
	})
	return dir
}

// unmountBelow detaches any mount left below dir (a client's storage),
// and fails the test if there was one: the clients must clean up.
func unmountBelow(t *testing.T, dir string) {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	assert.NilError(t, err)
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			t.Errorf("mount left behind: %s", f[4])
			_ = unix.Unmount(f[4], unix.MNT_DETACH)
		}
	}
}

// keepClean records which of paths exist now, and at cleanup removes the
// ones the test created if they are empty directories: what podman and
// containerd create on the host outside their --root (/run/containers,
// /run/containerd/s) and minibox's default state root. A path that is
// still not empty fails the test.
func keepClean(t *testing.T, paths ...string) {
	t.Helper()
	existed := map[string]bool{}
	for _, p := range paths {
		_, err := os.Lstat(p)
		existed[p] = err == nil
	}
	t.Cleanup(func() {
		// Deepest first, so parents are empty when their turn comes.
		for i := len(paths) - 1; i >= 0; i-- {
			p := paths[i]
			if existed[p] {
				continue
			}
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("left behind on the host: %s (%v)", p, err)
			}
		}
	})
}

// removeCgroupTree removes the cgroup directories below /minibox/parent
// in every hierarchy, deepest first (conmon's, which podman creates and
// never removes), and fails the test if a container's cgroup remains.
func removeCgroupTree(t *testing.T, parent string) {
	t.Helper()
	roots := []string{"/sys/fs/cgroup"}
	if !cgroupV2() {
		ents, _ := os.ReadDir("/sys/fs/cgroup")
		roots = nil
		for _, e := range ents {
			roots = append(roots, filepath.Join("/sys/fs/cgroup", e.Name()))
		}
	}
	for _, root := range roots {
		top := filepath.Join(root, "minibox", parent)
		var dirs []string
		_ = filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			base := filepath.Base(dirs[i])
			if base != "conmon" && dirs[i] != top {
				t.Errorf("container cgroup left behind: %s", dirs[i])
			}
			if err := unix.Rmdir(dirs[i]); err != nil {
				t.Errorf("rmdir %s: %v", dirs[i], err)
			}
		}
	}
}

type podman struct {
	t      *testing.T
	dir    string // podman's working dir, and so conmon's
	global []string
	run    []string // flags for every container
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	needRoot(t)
	needTools(t, "podman", "conmon")
	rootfs := rootfsDir(t)
	dir := shortTemp(t, "mbp")
	// podman passes --log and --log-format json only to a runtime whose
	// file is named runc or crun: a symlink named runc gives minibox the
	// same command line runc gets.
	rt := filepath.Join(dir, "rt")
	assert.NilError(t, os.Mkdir(rt, 0o755))
	assert.NilError(t, os.Symlink(bin, filepath.Join(rt, "runc")))
	parent := fmt.Sprintf("podman-%d", os.Getpid())
	keepClean(t, "/run/containers", "/run/containers/networks", "/run/minibox")
	// podman keeps its blob-info cache in /var/lib/containers/cache
	// whatever --root says: a folder this test made goes again, with it.
	if _, err := os.Lstat("/var/lib/containers"); errors.Is(err, os.ErrNotExist) {
		t.Cleanup(func() { os.RemoveAll("/var/lib/containers") })
	}
	// podman does not pass --root to the runtime when conmon's exit
	// command cleans up, so minibox keeps podman's containers in its
	// default root: every entry the test adds there must go again.
	before := dirEntries("/run/minibox")
	t.Cleanup(func() {
		for e := range dirEntries("/run/minibox") {
			if !before[e] {
				t.Errorf("minibox state left behind: /run/minibox/%s", e)
			}
		}
	})
	// conmon creates a file named "oom" in its working directory (which
	// podman's becomes) when the container is OOM-killed: podman runs in
	// a temporary directory, not in the package's.
	cwd := filepath.Join(dir, "cwd")
	assert.NilError(t, os.Mkdir(cwd, 0o755))
	_, oomErr := os.Stat("oom")
	t.Cleanup(func() {
		if _, err := os.Stat("oom"); err == nil && oomErr != nil {
			t.Errorf("conmon's oom file left in the package directory")
		}
	})
	p := &podman{t: t, dir: cwd,
		global: []string{
			"--root", dir + "/root", "--runroot", dir + "/run", "--tmpdir", dir + "/tmp",
			"--network-config-dir", dir + "/net",
			// Facts of this machine: no systemd, so cgroupfs and a file
			// for events.
			"--cgroup-manager=cgroupfs", "--events-backend=file",
			"--runtime", filepath.Join(rt, "runc"),
		},
		run: []string{
			"--network", "none",
			// Root here lacks CAP_SYS_RESOURCE: podman's default rlimits
			// would raise the hard limits, which fails for every runtime.
			"--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
			// Containers' (and conmon's) cgroups under /minibox.
			"--cgroup-parent", "/minibox/" + parent,
		},
	}
	t.Cleanup(func() {
		p.cmd("rm", "--all", "--force")
		p.cmd("rmi", "--all", "--force")
		// conmon is a daemon of its own: none of ours may survive.
		for _, pid := range procsMentioning(dir) {
			t.Errorf("process left running: %d", pid)
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		removeCgroupTree(t, parent)
	})
	// The image: the workspace's rootfs, imported as one layer.
	tar := exec.Command("tar", "-C", rootfs, "-c", ".")
	out, err := tar.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, tar.Start())
	r := icmd.RunCmd(icmd.Command("podman", append(p.global, "import", "-", "localhost/minibox-rootfs")...), icmd.WithStdin(out), icmd.Dir(p.dir))
	assert.NilError(t, tar.Wait())
	r.Assert(t, icmd.Success)
	return p
}

func (p *podman) cmd(args ...string) *icmd.Result {
	p.t.Helper()
	return icmd.RunCmd(icmd.Command("podman", append(p.global, args...)...), icmd.WithTimeout(2*time.Minute), icmd.Dir(p.dir))
}

// runArgs is `podman run` with the per-container flags, then args.
func (p *podman) runArgs(args ...string) []string {
	return append(append([]string{"run"}, p.run...), args...)
}

const podmanImage = "localhost/minibox-rootfs"

func TestPodmanRun(t *testing.T) {
	p := newPodman(t)
	for _, tc := range []struct {
		name  string
		flags []string
		cmd   []string
		want  icmd.Expected
	}{
		{"echo", nil, []string{"/bin/echo", "hello"}, icmd.Expected{Out: "hello"}},
		{"exit status", nil, []string{"/bin/sh", "-c", "exit 3"}, icmd.Expected{ExitCode: 3}},
		{"not found", nil, []string{"/nonexistent"}, icmd.Expected{ExitCode: 127, Err: "no such file or directory"}},
		{"isolated", nil, []string{"/bin/probe"}, icmd.Expected{Out: "pid=1\n"}},
		{"memory limit: OOM kill", []string{"-m", "32m", "--memory-swap", "32m"},
			[]string{"/bin/probe", "alloc", "100"}, icmd.Expected{ExitCode: 137}},
		{"pids limit", []string{"--pids-limit", "10"}, []string{"/bin/probe", "fork", "20"},
			icmd.Expected{ExitCode: 1, Out: "fork_error=EAGAIN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append(append([]string{"--rm"}, tc.flags...), podmanImage), tc.cmd...)
			p.cmd(p.runArgs(args...)...).Assert(t, tc.want)
		})
	}
	// The limits are really in place, seen by the probe from inside.
	r := p.cmd(p.runArgs("--rm", "-m", "32m", "--pids-limit", "10", podmanImage, "/bin/probe")...)
	r.Assert(t, icmd.Success)
	m := parseProbe(r.Stdout())
	assert.Equal(t, m["memory_max"], "33554432")
	assert.Equal(t, m["pids_max"], "10")
	assert.Assert(t, is.Contains(m["cgroup"], "/minibox/podman-"))
}

func TestPodmanTTY(t *testing.T) {
	p := newPodman(t)
	// -t: podman asks for a terminal through --console-socket; conmon
	// receives the pty master minibox sends.
	r := p.cmd(p.runArgs("--rm", "-t", podmanImage, "/bin/sh", "-c", "tty; stty size")...)
	r.Assert(t, icmd.Success)
	assert.Assert(t, is.Contains(r.Stdout(), "/dev/pts/0"))
}

func TestPodmanLifecycle(t *testing.T) {
	p := newPodman(t)
	p.cmd(p.runArgs("-d", "--name", "c1", podmanImage, "/bin/sleep", "1000")...).Assert(t, icmd.Success)
	status := func() string {
		return strings.TrimSpace(p.cmd("inspect", "--format", "{{.State.Status}}", "c1").Stdout())
	}
	assert.Equal(t, status(), "running")

	// exec: conmon runs `minibox exec --detach --pid-file F --process P`.
	p.cmd("exec", "c1", "/bin/sh", "-c", "hostname; tr '\\0' ' ' < /proc/1/cmdline").
		Assert(t, icmd.Expected{Out: "/bin/sleep 1000"})
	p.cmd("exec", "c1", "/bin/sh", "-c", "exit 4").Assert(t, icmd.Expected{ExitCode: 4})
	p.cmd("exec", "c1", "/nonexistent").Assert(t, icmd.Expected{ExitCode: 127})
	p.cmd("exec", "-t", "c1", "/bin/tty").Assert(t, icmd.Expected{Out: "/dev/pts/"})

	p.cmd("pause", "c1").Assert(t, icmd.Success)
	assert.Equal(t, status(), "paused")
	p.cmd("unpause", "c1").Assert(t, icmd.Success)
	assert.Equal(t, status(), "running")

	// stop: SIGTERM, which sleep as PID 1 ignores, then SIGKILL.
	p.cmd("stop", "-t", "1", "c1").Assert(t, icmd.Success)
	assert.Equal(t, status(), "exited")
	p.cmd("start", "c1").Assert(t, icmd.Success)
	assert.Equal(t, status(), "running")
	p.cmd("kill", "c1").Assert(t, icmd.Success)
	for i := 0; status() != "exited"; i++ {
		assert.Assert(t, i < 100, "still %s after kill", status())
		time.Sleep(100 * time.Millisecond)
	}
	p.cmd("rm", "c1").Assert(t, icmd.Success)

	// rm -f of a running container.
	p.cmd(p.runArgs("-d", "--name", "c2", podmanImage, "/bin/sleep", "1000")...).Assert(t, icmd.Success)
	p.cmd("rm", "-f", "c2").Assert(t, icmd.Success)
	r := p.cmd("ps", "--all", "--quiet")
	r.Assert(t, icmd.Success)
	assert.Equal(t, strings.TrimSpace(r.Stdout()), "")
}

// procsMentioning lists the processes whose command line contains s (a
// test's own temporary directory: conmon and shims carry it in theirs).
func procsMentioning(s string) []int {
	var out []int
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if strings.Contains(string(cmdline), s) {
			out = append(out, pid)
		}
	}
	return out
}

// dirEntries is the set of names in dir (empty if it does not exist).
func dirEntries(dir string) map[string]bool {
	ents, _ := os.ReadDir(dir)
	out := map[string]bool{}
	for _, e := range ents {
		out[e.Name()] = true
	}
	return out
}
