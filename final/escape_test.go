package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/icmd"
)

// Each escape attempt is its own test: a container must not reach the
// host this way. The probe reports result=ok when the attempt worked.

func TestEscapeChroot(t *testing.T) {
	b := newBox(t)
	r := b.run("/bin/probe", "escape")
	assert.Check(t, strings.Contains(r.Stdout(), "escape=contained"), r.Combined())
}

func TestEscapeMount(t *testing.T) {
	b := newBox(t)
	r := b.run("/bin/probe", "mount")
	r.Assert(t, icmd.Expected{ExitCode: 1, Out: "result=EPERM"})
}

func TestEscapeSysrqTrigger(t *testing.T) {
	b := newBox(t)
	if _, err := os.Stat("/proc/sysrq-trigger"); err != nil {
		t.Skip("this kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ off): nothing to protect")
	}
	// A read-only bind over it, as docker does.
	r := b.run("/bin/probe", "write", "/proc/sysrq-trigger", "h")
	r.Assert(t, icmd.Expected{ExitCode: 1, Out: "result=EROFS"})
}

func TestEscapeProcSys(t *testing.T) {
	b := newBox(t)
	r := b.run("/bin/probe", "write", "/proc/sys/kernel/hostname", "evil")
	r.Assert(t, icmd.Expected{ExitCode: 1, Out: "result=EROFS"})
	host, err := os.Hostname()
	assert.NilError(t, err)
	assert.Check(t, host != "evil")
}

func TestEscapeMaskedPaths(t *testing.T) {
	b := newBox(t)
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/sys/firmware"} {
		t.Run(p, func(t *testing.T) {
			if _, err := os.Stat(p); err != nil {
				t.Skipf("%s does not exist on this host's kernel: nothing to mask", p)
			}
			r := b.run("/bin/sh", "-c", "if [ -d "+p+" ]; then ls -A "+p+"; else cat "+p+"; fi")
			assert.Check(t, strings.TrimSpace(r.Stdout()) == "", "%s shows data:\n%.300s", p, r.Stdout())
		})
	}
}

// TestEscapeDeviceNode: docker allows mknod (CAP_MKNOD), so a container
// can create /dev/kmsg's node; the devices cgroup (v1 allow list, v2 BPF
// program) must refuse to open it.
func TestEscapeDeviceNode(t *testing.T) {
	b := newBox(t)
	r := b.run("/bin/sh", "-c", "mknod /tmp/kmsg c 1 11 && echo made && /bin/probe open /tmp/kmsg r; /bin/probe open /dev/null r")
	assert.Check(t, strings.Contains(r.Stdout(), "made"), r.Combined())
	assert.Check(t, strings.Contains(r.Stdout(), "result=EPERM\nresult=ok"), "kmsg must be refused, /dev/null allowed:\n%s", r.Combined())
}

// TestEscapeReleaseAgent: CVE-2022-0492 mounts a v1 cgroupfs and writes
// its release_agent. Mounting fails, and the container's own cgroup
// mount has no release_agent (its root is the container's cgroup) and
// is read-only.
func TestEscapeReleaseAgent(t *testing.T) {
	b := newBox(t)
	r := b.run("/bin/sh", "-c", `mkdir -p /tmp/cg; mount -t cgroup -o memory cgroup /tmp/cg && echo mounted;
		for f in /sys/fs/cgroup/release_agent /sys/fs/cgroup/*/release_agent; do [ -e "$f" ] && echo found $f; done;
		/bin/probe write /sys/fs/cgroup/memory/release_agent /evil; /bin/probe write /sys/fs/cgroup/release_agent /evil; true`)
	r.Assert(t, icmd.Success)
	assert.Check(t, !strings.Contains(r.Stdout(), "mounted"), r.Combined())
	assert.Check(t, !strings.Contains(r.Stdout(), "found"), r.Combined())
	assert.Check(t, !strings.Contains(r.Stdout(), "result=ok"), r.Combined())
}

// hostSleeper starts a host process the container will try to reach.
func hostSleeper(t *testing.T) *exec.Cmd {
	c := exec.Command("sleep", "60")
	assert.NilError(t, c.Start())
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	return c
}

func TestEscapeKillHostProcess(t *testing.T) {
	b := newBox(t)
	h := hostSleeper(t)
	r := b.run("/bin/probe", "kill", strconv.Itoa(h.Process.Pid), "9")
	r.Assert(t, icmd.Expected{ExitCode: 1, Out: "result=ESRCH"})
	assert.NilError(t, h.Process.Signal(syscall.Signal(0)), "host process died")
}

func TestEscapePtraceHostProcess(t *testing.T) {
	b := newBox(t)
	h := hostSleeper(t)
	r := b.run("/bin/probe", "ptrace", strconv.Itoa(h.Process.Pid))
	r.Assert(t, icmd.Expected{ExitCode: 1, Out: "result=ESRCH"})
}

func TestEscapeLoadModule(t *testing.T) {
	b := newBox(t)
	r := b.run("/bin/probe", "modload")
	r.Assert(t, icmd.Expected{ExitCode: 1, Out: "result=EPERM"})
}

func TestEscapeHostname(t *testing.T) {
	b := newBox(t)
	before, err := os.Hostname()
	assert.NilError(t, err)
	// The container's root may not even rename its own UTS namespace:
	// CAP_SYS_ADMIN is not in docker's set.
	r := b.run("/bin/probe", "hostname", "evil")
	r.Assert(t, icmd.Expected{ExitCode: 1, Out: "result=EPERM"})
	after, err := os.Hostname()
	assert.NilError(t, err)
	assert.Equal(t, after, before)
}

// TestEscapeProc1Root: /proc/1/root is the container's own init's root,
// never the host's.
func TestEscapeProc1Root(t *testing.T) {
	b := newBox(t)
	secret := filepath.Join(t.TempDir(), "secret")
	assert.NilError(t, os.WriteFile(secret, []byte("host"), 0o600))
	r := b.run("/bin/sh", "-c", "/bin/probe read /proc/1/root"+secret+"; /bin/probe read /proc/1/root/.minibox-rootfs")
	assert.Check(t, strings.Contains(r.Stdout(), "result=ENOENT"), r.Combined())
	assert.Check(t, !strings.Contains(r.Stdout(), "data=host"), r.Combined())
	// The marker is reachable: /proc/1/root is the rootfs.
	assert.Check(t, strings.Contains(r.Stdout(), "result=ok"), r.Combined())
}
