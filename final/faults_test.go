package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/icmd"
)

// TestExitCodes: docker's convention for what went wrong where.
func TestExitCodes(t *testing.T) {
	b := newBox(t)
	notDir := filepath.Join(t.TempDir(), "file")
	assert.NilError(t, os.WriteFile(notDir, nil, 0o644))
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"own status", []string{"/bin/probe", "exit", "3"}, 3, ""},
		{"success", []string{"/bin/true"}, 0, ""},
		{"command missing", []string{"/bin/nonexistent"}, 127, `minibox: exec: "/bin/nonexistent": no such file or directory`},
		{"command missing in PATH", []string{"nonexistent"}, 127, `minibox: exec: "nonexistent": executable file not found in $PATH`},
		{"not executable", []string{"/etc/passwd"}, 126, `minibox: exec: "/etc/passwd": permission denied`},
		{"directory", []string{"/bin"}, 126, `minibox: exec: "/bin": permission denied`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.run(tc.args...)
			r.Assert(t, icmd.Expected{ExitCode: tc.code, Err: tc.err})
		})
	}
	for _, tc := range []struct{ name, rootfs, err string }{
		{"rootfs missing", "/nonexistent-rootfs", "minibox: rootfs /nonexistent-rootfs: no such file or directory\n"},
		{"rootfs not a directory", notDir, "minibox: rootfs " + notDir + ": not a directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := icmd.RunCommand(bin, "--root", b.root, "run", "--rootfs", tc.rootfs, "/bin/true")
			r.Assert(t, icmd.Expected{ExitCode: 125})
			assert.Equal(t, r.Stderr(), tc.err)
		})
	}
}

// TestKilledBySignal: 128+N when the container's process is killed by
// signal N, from outside (SIGKILL) or, with --init, by itself.
func TestKilledBySignal(t *testing.T) {
	b := newBox(t)
	t.Run("SIGKILL from the host", func(t *testing.T) {
		name := b.name()
		c := icmd.StartCmd(b.cmd("--name", name, "/bin/sh", "-c", "echo up; exec sleep 30"))
		waitOutput(t, c, "up")
		pid, _ := strconv.Atoi(b.pid(name))
		assert.NilError(t, syscall.Kill(pid, syscall.SIGKILL))
		icmd.WaitOnCmd(10*time.Second, c).Assert(t, icmd.Expected{ExitCode: 137})
	})
	t.Run("SIGTERM to itself, under --init", func(t *testing.T) {
		// Without --init the process is PID 1, which the kernel protects
		// from signals it has no handler for: docker's behaviour too.
		b.run("--init", "/bin/probe", "kill-self", "TERM").Assert(t, icmd.Expected{ExitCode: 143})
	})
	t.Run("PID 1 ignores its own SIGTERM", func(t *testing.T) {
		r := b.run("/bin/sh", "-c", "kill -TERM $$; echo survived")
		r.Assert(t, icmd.Expected{ExitCode: 0, Out: "survived"})
	})
	t.Run("minibox forwards SIGTERM", func(t *testing.T) {
		c := icmd.StartCmd(b.cmd("--init", "/bin/sh", "-c", "echo up; exec sleep 30"))
		waitOutput(t, c, "up")
		assert.NilError(t, c.Cmd.Process.Signal(syscall.SIGTERM))
		icmd.WaitOnCmd(10*time.Second, c).Assert(t, icmd.Expected{ExitCode: 143})
	})
}

// TestInitReapsZombies: with --init, PID 1 is minibox's init and
// orphans that exit are reaped (no zombie stays).
func TestInitReapsZombies(t *testing.T) {
	b := newBox(t)
	r := b.run("--init", "/bin/sh", "-c",
		`sh -c 'sleep 0.1 & exit 0'; sleep 0.5; cat /proc/1/comm; grep -l "^State:.Z" /proc/[0-9]*/status | wc -l`)
	r.Assert(t, icmd.Success)
	f := strings.Fields(r.Stdout())
	assert.DeepEqual(t, f, []string{"minibox-init", "0"})
}

// TestKillMiniboxMidRun: SIGKILL of minibox takes the container with it
// (PR_SET_PDEATHSIG), leaves no process or mount, and the state and
// cgroup it could not remove are removed by the next minibox run.
func TestKillMiniboxMidRun(t *testing.T) {
	b := newBox(t)
	name := b.name()
	c := icmd.StartCmd(b.cmd("--name", name, "/bin/sh", "-c", "echo up; exec sleep 60"))
	waitOutput(t, c, "up")
	pid, _ := strconv.Atoi(b.pid(name))
	assert.NilError(t, c.Cmd.Process.Signal(syscall.SIGKILL))
	icmd.WaitOnCmd(10*time.Second, c)
	// The container's process is gone (or a zombie about to be reaped).
	waitGone(t, pid)
	_, err := os.Stat(filepath.Join(b.root, name))
	assert.NilError(t, err, "the killed minibox could not clean up: its state stays until the next run")

	b.run("/bin/true").Assert(t, icmd.Success)
	_, err = os.Stat(filepath.Join(b.root, name))
	assert.Assert(t, os.IsNotExist(err), "leftover state of %s not removed by the next run", name)
	for _, dir := range cgroupParents() {
		_, err := os.Stat(filepath.Join(dir, name))
		assert.Check(t, os.IsNotExist(err), "leftover cgroup %s/%s", dir, name)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 500 {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(st), ") Z ") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d still running", pid)
}

// TestResourceBombs: the limits hold, and the host and minibox survive:
// the next container starts normally.
func TestResourceBombs(t *testing.T) {
	b := newBox(t)
	t.Run("fork bomb stops at --pids-limit", func(t *testing.T) {
		r := b.run("--pids-limit", "10", "/bin/probe", "fork", "100")
		r.Assert(t, icmd.Expected{ExitCode: 1, Out: "fork_error=EAGAIN"})
		p := parseProbe(r.Stdout())
		n, err := strconv.Atoi(p["forked"])
		assert.NilError(t, err)
		assert.Check(t, n < 10, "forked %d with a limit of 10", n)
	})
	t.Run("memory bomb is OOM-killed", func(t *testing.T) {
		b.run("-m", "32m", "/bin/probe", "alloc", "256").Assert(t, icmd.Expected{ExitCode: 137})
	})
	t.Run("a shell fork bomb", func(t *testing.T) {
		// The classic bomb fills the pids limit; the shell that started it
		// (PID 1) still runs its builtins, and everything dies with it.
		r := b.run("--pids-limit", "20", "/bin/sh", "-c", "b() { b | b & }; b; sleep 1; echo alive")
		r.Assert(t, icmd.Expected{ExitCode: 0, Out: "alive"})
	})
	t.Run("next container starts", func(t *testing.T) {
		p := b.probe()
		assert.Equal(t, p["pid"], "1")
	})
}

// TestFiftyAtOnce: 50 containers started together all succeed, and
// leave nothing (newBox checks at cleanup).
func TestFiftyAtOnce(t *testing.T) {
	b := newBox(t)
	const n = 50
	var wg sync.WaitGroup
	results := make([]*icmd.Result, n)
	names := make([]string, n)
	for i := range n {
		names[i] = b.name()
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = b.run("--name", names[i], "-m", "64m", "--pids-limit", "50", "/bin/probe")
		}()
	}
	wg.Wait()
	for i, r := range results {
		assert.Check(t, r.ExitCode == 0 && parseProbe(r.Stdout())["pid"] == "1", "container %d: %s", i, r.Combined())
	}
}

// TestBadInput: every flag's bad values get one line and 125, and
// nothing is created.
func TestBadInput(t *testing.T) {
	b := newBox(t)
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--memory", "lots", "/bin/true"}, `--memory: "lots" is not a size`},
		{[]string{"-m", "1k", "/bin/true"}, "memory 1024: minimum is 6MiB"},
		{[]string{"--memory-swap", "10m", "/bin/true"}, "memory-swap needs memory"},
		{[]string{"-m", "64m", "--memory-swap", "32m", "/bin/true"}, "must be at least memory"},
		{[]string{"--cpus", "-1", "/bin/true"}, `--cpus "-1"`},
		{[]string{"--cpus", "two", "/bin/true"}, `--cpus "two"`},
		{[]string{"--cpu-shares", "1", "/bin/true"}, `--cpu-shares "1"`},
		{[]string{"--cpuset-cpus", "a-b", "/bin/true"}, `cpuset-cpus "a-b"`},
		{[]string{"--pids-limit", "0", "/bin/true"}, `--pids-limit "0"`},
		{[]string{"--ulimit", "nofile", "/bin/true"}, `ulimit "nofile"`},
		{[]string{"--ulimit", "bogus=1", "/bin/true"}, `ulimit "bogus=1"`},
		{[]string{"--ulimit", "nofile=10:5", "/bin/true"}, "soft limit exceeds hard limit"},
		{[]string{"--network", "bridge", "/bin/true"}, `--network "bridge"`},
		{[]string{"--name", "a/b", "/bin/true"}, `container id "a/b"`},
		{[]string{"-w", "relative", "/bin/true"}, `--workdir "relative"`},
		{[]string{"-u", "nosuchuser", "/bin/true"}, `user "nosuchuser"`},
		{[]string{"-u", "0:nosuchgroup", "/bin/true"}, `group "nosuchgroup"`},
		{[]string{"-h", "a b", "/bin/true"}, `--hostname "a b"`},
		{[]string{"-e", "=x", "/bin/true"}, `--env "=x"`},
		{[]string{"--bogus", "/bin/true"}, "unknown flag --bogus"},
		{[]string{"-Z", "/bin/true"}, "unknown flag -Z"},
		{[]string{"--memory"}, "--memory needs a value"},
		{[]string{"--read-only=maybe", "/bin/true"}, "--read-only takes no value"},
		{nil, "no command given"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := b.run(tc.args...)
			r.Assert(t, icmd.Expected{ExitCode: 125, Err: tc.err})
			assert.Check(t, strings.HasPrefix(r.Stderr(), "minibox: "), r.Stderr())
			assert.Equal(t, strings.Count(r.Stderr(), "\n"), 1, "want one line: %q", r.Stderr())
		})
	}
	// Raising a hard rlimit is refused only where root lacks
	// CAP_SYS_RESOURCE (this CI machine); elsewhere it must simply work.
	t.Run("--ulimit above the hard limit", func(t *testing.T) {
		r := b.run("--ulimit", "nofile=100000:100000", "/bin/true")
		if hasCapSysResource(t) {
			r.Assert(t, icmd.Success)
			return
		}
		r.Assert(t, icmd.Expected{ExitCode: 125, Err: "raising it needs CAP_SYS_RESOURCE"})
		assert.Equal(t, strings.Count(r.Stderr(), "\n"), 1, "want one line: %q", r.Stderr())
	})
	t.Run("duplicate name", func(t *testing.T) {
		name := b.name()
		c := icmd.StartCmd(b.cmd("--name", name, "/bin/sh", "-c", "echo up; exec sleep 30"))
		waitOutput(t, c, "up")
		b.run("--name", name, "/bin/true").Assert(t, icmd.Expected{ExitCode: 125, Err: "container " + name + " already exists"})
		pid, _ := strconv.Atoi(b.pid(name))
		syscall.Kill(pid, syscall.SIGKILL)
		icmd.WaitOnCmd(10*time.Second, c).Assert(t, icmd.Expected{ExitCode: 137})
	})
}

// hasCapSysResource reports whether this process may raise hard rlimits:
// bit 24 of CapEff in /proc/self/status (capabilities(7)).
func hasCapSysResource(t *testing.T) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	assert.NilError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			assert.NilError(t, err)
			return caps&(1<<24) != 0
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return false
}

// TestInitErrorReachesUser: when init fails during setup, the user sees
// init's own error as one `minibox:` line, never what the parent hit
// afterwards on the dead init's pipes (a "broken pipe" while sending the
// next message, or a failed move into the cgroup). These failures come
// early, while the parent is still making the cgroup, so each case runs a
// few times: the race that lost the error went the wrong way most times.
func TestInitErrorReachesUser(t *testing.T) {
	b := newBox(t)
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		want   string
	}{
		{"sysctl", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.no_such_key": "1"}
		}, `minibox: linux.sysctl net.ipv4.no_such_key="1": open /proc/sys/net/ipv4/no_such_key: no such file or directory`},
		{"mount", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts[:1:1], append([]specs.Mount{{Destination: "/tmp", Type: "no_such_fs", Source: "x"}}, s.Mounts[1:]...)...)
		}, `minibox: mount no_such_fs x on `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := b.bundle([]string{"/bin/true"}, tc.mutate)
			for range 3 {
				r := b.oci("run", "--bundle", dir, b.name())
				fails(t, r, tc.want)
				assert.Assert(t, !strings.Contains(r.Stderr(), "pipe"), r.Stderr())
			}
		})
	}
}
