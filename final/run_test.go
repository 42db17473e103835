package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/icmd"

	"minibox.dev/final/internal/console"
)

func TestHelp(t *testing.T) {
	r := icmd.RunCommand(bin, "run", "--help")
	r.Assert(t, icmd.Success)
	for _, f := range []string{"--name", "--env", "--workdir", "--user", "--read-only", "--memory",
		"--memory-swap", "--cpus", "--cpu-shares", "--cpuset-cpus", "--pids-limit", "--ulimit",
		"--network", "--tty", "--interactive", "--hostname", "--userns", "--init", "--rm", "--rootfs"} {
		assert.Check(t, strings.Contains(r.Stdout(), f), "--help does not mention %s", f)
	}
	// What a docker user would otherwise have to find out: the container
	// goes at exit whatever --rm says, and --userns does not chown.
	for _, s := range []string{"minibox always removes the container at exit", "--rm is accepted",
		"files show as nobody inside"} {
		assert.Check(t, strings.Contains(strings.Join(strings.Fields(r.Stdout()), " "), s), "--help does not say %q", s)
	}
}

// TestWritableLayer: writes land in the overlay, which goes away with the
// container; newBox checks the rootfs on disk is unchanged.
func TestWritableLayer(t *testing.T) {
	b := newBox(t)
	b.run("/bin/sh", "-c", "echo new > /etc/new && rm /etc/hostname && cat /etc/new").
		Assert(t, icmd.Expected{Out: "new"})
	// A second container sees the pristine rootfs.
	b.run("/bin/sh", "-c", "test ! -e /etc/new && test -e /etc/hostname").Assert(t, icmd.Success)
	// --rm (docker's) is accepted and changes nothing: the layer goes
	// either way, and newBox finds nothing left in the state root.
	b.run("--rm", "/bin/sh", "-c", "echo new > /etc/new").Assert(t, icmd.Success)
	b.run("/bin/sh", "-c", "test ! -e /etc/new").Assert(t, icmd.Success)
}

func TestReadOnly(t *testing.T) {
	b := newBox(t)
	r := b.run("--read-only", "/bin/probe", "write", "/etc/new", "x")
	r.Assert(t, icmd.Expected{ExitCode: 1, Out: "result=EROFS"})
	// /dev, /dev/shm and /tmp-less writes still work where docker allows.
	b.run("--read-only", "/bin/probe", "write", "/dev/shm/x", "y").Assert(t, icmd.Success)
}

func TestProcessFlags(t *testing.T) {
	b := newBox(t)
	for _, tc := range []struct {
		name  string
		flags []string
		cmd   string
		want  string
	}{
		{"env", []string{"-e", "A=1", "--env=B=two words"}, `echo "$A|$B|$HOSTNAME"`, "1|two words|minibox"},
		{"workdir created", []string{"-w", "/work/dir"}, "pwd", "/work/dir"},
		{"user by number", []string{"-u", "1000:1000"}, "id -u; id -g; grep CapEff /proc/self/status", "1000\n1000\nCapEff:\t0000000000000000"},
		{"user by name", []string{"-u", "nobody"}, "id -un", "nobody"},
		{"hostname", []string{"-h", "box1"}, "hostname", "box1"},
		{"ulimit", []string{"--ulimit", "nofile=100:200"}, "ulimit -n; ulimit -Hn", "100\n200"},
		{"ulimit nproc", []string{"--ulimit", "nproc=50"}, "ulimit -u", "50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.run(append(tc.flags, "/bin/sh", "-c", tc.cmd)...)
			r.Assert(t, icmd.Success)
			assert.Equal(t, strings.TrimSpace(r.Stdout()), tc.want)
		})
	}
}

// cgroupFile prints a cgroup file from inside the container, wherever
// the host's layout puts it (v1: per controller, v2: one tree).
func cgroupCat(v1, v2 string) string {
	if cgroupV2() {
		return "cat /sys/fs/cgroup/" + v2
	}
	return "cat /sys/fs/cgroup/" + v1
}

func TestCgroupLimits(t *testing.T) {
	b := newBox(t)
	for _, tc := range []struct {
		name   string
		flags  []string
		v1, v2 string
		w1, w2 string
	}{
		{"memory", []string{"-m", "32m"}, "memory/memory.limit_in_bytes", "memory.max", "33554432", "33554432"},
		{"pids", []string{"--pids-limit", "7"}, "pids/pids.max", "pids.max", "7", "7"},
		{"cpus", []string{"--cpus", "0.5"}, "cpu/cpu.cfs_quota_us", "cpu.max", "50000", "50000 100000"},
		{"cpu shares", []string{"--cpu-shares", "512"}, "cpu/cpu.shares", "cpu.weight", "512", "20"},
		{"cpuset", []string{"--cpuset-cpus", "0"}, "cpuset/cpuset.cpus", "cpuset.cpus", "0", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.run(append(tc.flags, "/bin/sh", "-c", cgroupCat(tc.v1, tc.v2))...)
			r.Assert(t, icmd.Success)
			want := tc.w1
			if cgroupV2() {
				want = tc.w2
			}
			assert.Equal(t, strings.TrimSpace(r.Stdout()), want)
		})
	}
	t.Run("memory-swap", func(t *testing.T) {
		r := b.run("-m", "32m", "--memory-swap", "64m", "/bin/sh", "-c",
			cgroupCat("memory/memory.memsw.limit_in_bytes", "memory.swap.max"))
		if r.ExitCode == 125 && strings.Contains(r.Stderr(), "swap is not accounted") {
			t.Skip("this kernel does not account swap: " + strings.TrimSpace(r.Stderr()))
		}
		r.Assert(t, icmd.Success)
		want := "67108864" // v1: memory+swap
		if cgroupV2() {
			want = "33554432" // v2: swap alone
		}
		assert.Equal(t, strings.TrimSpace(r.Stdout()), want)
	})
}

// TestCgroupV2 checks the v2 driver's own files: controllers delegated
// to the container, and its device program (in TestEscapeDeviceNode).
func TestCgroupV2(t *testing.T) {
	b := newBox(t)
	needV2(t)
	r := b.run("-m", "32m", "--cpus", "1", "/bin/sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max; cat /proc/self/cgroup")
	r.Assert(t, icmd.Success)
	assert.Equal(t, r.Stdout(), "33554432\n100000 100000\n0::/\n")
}

// TestSharedRootPropagation: on a host whose / is shared (systemd), the
// container's mounts must not appear on the host. The test makes / shared
// in a private mount namespace of its own and compares its mount table.
func TestSharedRootPropagation(t *testing.T) {
	b := newBox(t)
	script := `mount --make-rshared / && cat /proc/self/mountinfo > "$1/before" &&
		"$2" --root "$3" run --rootfs "$4" /bin/sh -c 'mount | wc -l' >/dev/null &&
		cat /proc/self/mountinfo > "$1/after"`
	dir := t.TempDir()
	r := icmd.RunCommand("unshare", "-m", "--propagation", "unchanged", "sh", "-c", script, "sh", dir, bin, b.root, b.rootfs)
	r.Assert(t, icmd.Success)
	before, err := os.ReadFile(dir + "/before")
	assert.NilError(t, err)
	after, err := os.ReadFile(dir + "/after")
	assert.NilError(t, err)
	assert.Equal(t, string(after), string(before))
}

// TestTerminal drives `run -it` and `run -t` from a pty of the test's
// own, as a user's terminal would: the container gets its own pty with
// the caller's window size, and a resize reaches it as SIGWINCH.
func TestTerminal(t *testing.T) {
	b := newBox(t)
	for _, flag := range []string{"-it", "-t"} {
		t.Run(flag, func(t *testing.T) { terminalSession(t, b, flag) })
	}
}

func terminalSession(t *testing.T, b *box, flag string) {
	master, slave := newPty(t)
	assert.NilError(t, console.SetSize(master, specs.Box{Height: 33, Width: 101}))

	script := `tty; stty size; trap 'stty size; exit 5' WINCH; echo ready; while :; do sleep 0.05; done`
	cmd, out, done := startOnPty(t, master, slave, "--root", b.root, "run", "--rootfs", b.rootfs, flag, "/bin/sh", "-c", script)
	// Resize the caller's terminal: the kernel sends minibox SIGWINCH,
	// minibox copies the size to the container's pty.
	assert.NilError(t, unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}))
	err := cmd.Wait()
	<-done
	var ee *exec.ExitError
	assert.Assert(t, err != nil && errors.As(err, &ee) && ee.ExitCode() == 5, "exit: %v\n%s", err, out.String())
	text := strings.ReplaceAll(out.String(), "\r", "")
	assert.Check(t, strings.Contains(text, "/dev/pts/0\n33 101\n"), text)
	assert.Check(t, strings.Contains(text, "40 120\n"), text)
}

// newPty opens a pty pair for a test to play a user's terminal with;
// both ends are closed when the test ends.
func newPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, slavePath, err := console.NewPty("/dev/ptmx")
	assert.NilError(t, err)
	t.Cleanup(func() { master.Close() })
	slave, err = console.OpenSlave(slavePath)
	assert.NilError(t, err)
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// startOnPty starts minibox with args in a session of its own whose
// controlling terminal and stdio are the pty's slave, as a shell in a
// user's terminal would. It copies the pty's output into out (done is
// closed at its end) and waits up to 10 seconds for "ready" in it.
func startOnPty(t *testing.T, master, slave *os.File, args ...string) (*exec.Cmd, *bytes.Buffer, chan struct{}) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	assert.NilError(t, cmd.Start())
	slave.Close()

	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "ready") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, &out, done
}

// TestInitCtrlC: under --init -t a Ctrl-C typed on the terminal reaches
// the program once. The container's pty sends SIGINT to its foreground
// process group; minibox-init forwards what it receives, so it must not
// be in that group: the program gets a process group of its own, in the
// terminal's foreground (as tini and docker-init do).
func TestInitCtrlC(t *testing.T) {
	b := newBox(t)
	master, slave := newPty(t)

	// $5 and $8 of /proc/PID/stat: the process group and the terminal's
	// foreground process group.
	script := `set -- $(cat /proc/$$/stat); echo "pid=$1 pgrp=$5 tpgid=$8"; n=0; trap 'n=$((n+1))' INT; echo ready;
i=0; while [ $i -lt 30 ]; do sleep 0.05; i=$((i+1)); done; echo "ints=$n"`
	cmd, out, done := startOnPty(t, master, slave, "--root", b.root, "run", "--rootfs", b.rootfs, "--init", "-it", "/bin/sh", "-c", script)
	// Ctrl-C on the user's terminal: minibox has put it in raw mode, so
	// the byte travels to the container's pty, whose line discipline
	// turns it into SIGINT.
	_, err := master.Write([]byte{3})
	assert.NilError(t, err)
	err = cmd.Wait()
	<-done
	text := strings.ReplaceAll(out.String(), "\r", "")
	assert.NilError(t, err, text)
	var pid, pgrp, tpgid, ints int
	_, err = fmt.Sscanf(text[strings.Index(text, "pid="):], "pid=%d pgrp=%d tpgid=%d", &pid, &pgrp, &tpgid)
	assert.NilError(t, err, text)
	assert.Check(t, pgrp == pid && tpgid == pid, "the program is not alone in the foreground: %s", text)
	i := strings.Index(text, "ints=")
	assert.Assert(t, i >= 0, text)
	_, err = fmt.Sscanf(text[i:], "ints=%d", &ints)
	assert.NilError(t, err, text)
	assert.Equal(t, ints, 1, text)
}
