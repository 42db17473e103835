// Black-box root tests of the OCI verbs (runc's command line): a plain
// bundle through create → start → state → kill → delete with the spec's
// states and errors, hooks, the console socket, exec, ps, pause/resume,
// list, spec, features, the global flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/icmd"

	"minibox.dev/final/internal/console"
)

// bundle writes a bundle: `minibox spec`'s config with root.path at the
// test rootfs (read-only, so the rootfs on disk cannot change), no
// terminal, the given args; mutate adjusts the rest.
func (b *box) bundle(args []string, mutate ...func(*specs.Spec)) string {
	b.t.Helper()
	dir := b.t.TempDir()
	runBin(b.t, nil, "spec", "--bundle", dir).Assert(b.t, icmd.Success)
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	assert.NilError(b.t, err)
	var s specs.Spec
	assert.NilError(b.t, json.Unmarshal(data, &s))
	s.Root = &specs.Root{Path: b.rootfs, Readonly: true}
	s.Process.Terminal = false
	s.Process.Args = args
	for _, m := range mutate {
		m(&s)
	}
	data, err = json.Marshal(&s)
	assert.NilError(b.t, err)
	assert.NilError(b.t, os.WriteFile(path, data, 0o644))
	return dir
}

// oci runs `minibox --root R ARGS...`.
func (b *box) oci(args ...string) *result {
	b.t.Helper()
	return runBin(b.t, nil, append([]string{"--root", b.root}, args...)...)
}

// result is a finished minibox command. Its stdout and stderr are files,
// not pipes: `create` hands them to the container, which keeps them open
// after minibox exits, and a pipe would make the test wait for the
// container's end.
type result struct {
	code           int
	stdout, stderr string
}

// runBin runs the minibox binary with stdin (may be nil) and a minute's
// timeout.
func runBin(t *testing.T, stdin io.Reader, args ...string) *result {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	assert.NilError(t, err)
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	assert.NilError(t, err)
	defer errf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, out, errf
	err = cmd.Run()
	r := &result{code: cmd.ProcessState.ExitCode()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("minibox %v: %v", args, err)
	}
	assert.Assert(t, ctx.Err() == nil, "minibox %v: timed out", args)
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	r.stdout, r.stderr = string(o), string(e)
	return r
}

func (r *result) Stdout() string { return r.stdout }
func (r *result) Stderr() string { return r.stderr }

// Assert checks the exit code, and that stdout and stderr contain
// want.Out and want.Err, as icmd's Assert does.
func (r *result) Assert(t *testing.T, want icmd.Expected) *result {
	t.Helper()
	assert.Equal(t, r.code, want.ExitCode, "stdout: %q\nstderr: %q", r.stdout, r.stderr)
	assert.Assert(t, strings.Contains(r.stdout, want.Out), "stdout %q lacks %q (stderr %q)", r.stdout, want.Out, r.stderr)
	assert.Assert(t, strings.Contains(r.stderr, want.Err), "stderr %q lacks %q", r.stderr, want.Err)
	return r
}

type ociState struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
}

func (b *box) state(id string) ociState {
	b.t.Helper()
	r := b.oci("state", id)
	r.Assert(b.t, icmd.Success)
	var st ociState
	assert.NilError(b.t, json.Unmarshal([]byte(r.Stdout()), &st), r.Stdout())
	return st
}

// waitStatus polls `state` until the container has status want.
func (b *box) waitStatus(id string, want specs.ContainerState) {
	b.t.Helper()
	for range 500 {
		if b.state(id).Status == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("container %s never became %s: %+v", id, want, b.state(id))
}

// fails asserts a command failed with one line on stderr containing want.
func fails(t *testing.T, r *result, want string) {
	t.Helper()
	r.Assert(t, icmd.Expected{ExitCode: 125, Err: want})
	assert.Equal(t, strings.Count(strings.TrimSpace(r.Stderr()), "\n"), 0, "one line: %q", r.Stderr())
}

func TestOCILifecycle(t *testing.T) {
	b := newBox(t)
	id := b.name()
	dir := b.bundle([]string{"/bin/sleep", "1000"})
	pidFile := filepath.Join(t.TempDir(), "pid")

	b.oci("create", "--bundle", dir, "--pid-file", pidFile, id).Assert(t, icmd.Success)
	st := b.state(id)
	assert.Equal(t, st.Status, specs.StateCreated)
	assert.Equal(t, st.ID, id)
	assert.Equal(t, st.Bundle, dir)
	assert.Equal(t, st.Version, specs.Version)
	assert.Assert(t, st.Pid > 0)
	pid, err := os.ReadFile(pidFile)
	assert.NilError(t, err)
	assert.Equal(t, string(pid), strconv.Itoa(st.Pid), "the pid file holds the bare pid")
	// Created: init waits; the program has not started yet.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.Pid))
	assert.NilError(t, err)
	assert.Assert(t, !strings.Contains(string(cmdline), "sleep"), "program ran before start: %q", cmdline)

	fails(t, b.oci("create", "--bundle", dir, id), "already exists")

	b.oci("start", id).Assert(t, icmd.Success)
	st = b.state(id)
	assert.Equal(t, st.Status, specs.StateRunning)
	cmdline, err = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.Pid))
	assert.NilError(t, err)
	assert.Equal(t, string(cmdline), "/bin/sleep\x001000\x00")
	fails(t, b.oci("start", id), "cannot start an already running container")
	fails(t, b.oci("delete", id), "is running: stop it first, or delete --force")

	b.oci("kill", id, "KILL").Assert(t, icmd.Success)
	b.waitStatus(id, specs.StateStopped)
	fails(t, b.oci("start", id), "cannot start a container that has stopped")
	fails(t, b.oci("kill", id), "container not running")

	b.oci("delete", id).Assert(t, icmd.Success)
	fails(t, b.oci("state", id), "does not exist")
}

// Every verb that takes an ID refuses an unknown one and a missing one
// with one line and status 125.
func TestOCIErrors(t *testing.T) {
	b := newBox(t)
	for _, verb := range []string{"start", "state", "kill", "delete", "ps", "pause", "resume", "exec"} {
		t.Run(verb, func(t *testing.T) {
			args := []string{verb, "nosuch"}
			if verb == "exec" {
				args = append(args, "/bin/true")
			}
			fails(t, b.oci(args...), "does not exist")
			fails(t, b.oci(verb), "missing container ID")
		})
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--bundle", t.TempDir(), "x"}, "no config.json (write one with `minibox spec`)"},
		{[]string{"create", "--bundle", b.bundle([]string{"/bin/true"})}, "missing container ID"},
		{[]string{"create", "--bundle", b.bundle([]string{"/bin/true"}), "bad/id"}, `container id "bad/id"`},
		{[]string{"create", "--bundle", b.bundle([]string{"/bin/true"}, func(s *specs.Spec) {
			s.Linux.Resources.BlockIO = &specs.LinuxBlockIO{}
		}), "x"}, "linux.resources.blockIO: not supported by minibox"},
		{[]string{"create", "--bundle", b.bundle([]string{"/bin/true"}, func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FLY")
		}), "x"}, `unknown capability "CAP_FLY"`},
		{[]string{"create", "--bundle", b.bundle([]string{"/bin/true"}, func(s *specs.Spec) {
			s.Process.Terminal = true
		}), "x"}, "--console-socket is required"},
		{[]string{"kill", "x", "SIGFOO"}, `unknown signal "SIGFOO"`},
		{[]string{"kill", "--bogus", "x"}, "unknown flag -bogus"},
		{[]string{"list", "--format", "xml"}, `--format "xml": want table or json`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"start", "a", "b"}, `unexpected argument "b"`},
	} {
		t.Run(strings.Join(tc.args[:1], " "), func(t *testing.T) {
			fails(t, b.oci(tc.args...), tc.want)
		})
	}
	fails(t, runBin(t, nil, "--systemd-cgroup", "list"), "--systemd-cgroup: not supported")
	fails(t, runBin(t, nil, "--log-format", "xml", "list"), `--log-format "xml": want text or json`)
	// A failed create leaves nothing behind: newBox checks the state root
	// and cgroups at cleanup.
	fails(t, b.oci("create", "--bundle", b.bundle([]string{"/nonexistent"}), b.name()), `exec: "/nonexistent": no such file or directory`)
}

// conmon and the shim read errors back from --log as JSON lines.
func TestOCILogJSON(t *testing.T) {
	b := newBox(t)
	log := filepath.Join(t.TempDir(), "log.json")
	r := runBin(t, nil, "--root", b.root, "--log", log, "--log-format", "json", "start", "nosuch")
	r.Assert(t, icmd.Expected{ExitCode: 125, Err: "does not exist"})
	data, err := os.ReadFile(log)
	assert.NilError(t, err)
	var line struct {
		Level, Msg string
		Time       time.Time
	}
	assert.NilError(t, json.Unmarshal(data, &line), string(data))
	assert.Equal(t, line.Level, "error")
	assert.Assert(t, is.Contains(line.Msg, "container nosuch: container does not exist"))
	assert.Assert(t, time.Since(line.Time) < time.Minute)
}

func TestOCIDeleteRules(t *testing.T) {
	b := newBox(t)
	dir := b.bundle([]string{"/bin/sleep", "1000"})

	// A created container is deleted without --force: its init is killed.
	created := b.name()
	b.oci("create", "--bundle", dir, created).Assert(t, icmd.Success)
	pid := b.state(created).Pid
	b.oci("delete", created).Assert(t, icmd.Success)
	waitGone(t, pid)

	// A running one needs --force.
	running := b.name()
	b.oci("create", "--bundle", dir, running).Assert(t, icmd.Success)
	b.oci("start", running).Assert(t, icmd.Success)
	pid = b.state(running).Pid
	b.oci("delete", "--force", running).Assert(t, icmd.Success)
	waitGone(t, pid)

	// As runc: a forced delete of an unknown container succeeds.
	b.oci("delete", "--force", "nosuch").Assert(t, icmd.Success)
}

func TestOCIRunBundle(t *testing.T) {
	b := newBox(t)
	id := b.name()
	r := b.oci("run", "--bundle", b.bundle([]string{"/bin/sh", "-c", "echo out; hostname; exit 3"}), id)
	r.Assert(t, icmd.Expected{ExitCode: 3, Out: "out\nminibox"})
	fails(t, b.oci("state", id), "does not exist")

	detached := b.name()
	b.oci("run", "--detach", "--bundle", b.bundle([]string{"/bin/sleep", "1000"}), detached).Assert(t, icmd.Success)
	assert.Equal(t, b.state(detached).Status, specs.StateRunning)
	b.oci("delete", "--force", detached).Assert(t, icmd.Success)
}

func TestOCIList(t *testing.T) {
	b := newBox(t)
	r := b.oci("list", "--format", "json")
	r.Assert(t, icmd.Expected{Out: "[]"})
	dir := b.bundle([]string{"/bin/sleep", "1000"})
	ids := []string{b.name(), b.name()}
	for _, id := range ids {
		b.oci("create", "--bundle", dir, id).Assert(t, icmd.Success)
		defer b.oci("delete", "--force", id)
	}
	b.oci("start", ids[1]).Assert(t, icmd.Success)

	var list []ociState
	r = b.oci("list", "--format", "json")
	r.Assert(t, icmd.Success)
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout()), &list))
	assert.Assert(t, is.Len(list, 2))
	assert.Equal(t, list[0].ID, ids[0])
	assert.Equal(t, list[0].Status, specs.StateCreated)
	assert.Equal(t, list[1].Status, specs.StateRunning)

	r = b.oci("list")
	r.Assert(t, icmd.Success)
	lines := strings.Split(strings.TrimSpace(r.Stdout()), "\n")
	assert.Assert(t, is.Len(lines, 3))
	assert.Assert(t, is.Contains(lines[0], "STATUS"))
	assert.Assert(t, is.Contains(lines[1], ids[0]+" "))
	assert.Assert(t, is.Contains(lines[1], "created"))
	assert.Assert(t, is.Contains(lines[2], "running"))
	b.oci("list", "-q").Assert(t, icmd.Expected{Out: ids[0] + "\n" + ids[1]})
}

// TestOCIHooks checks each hook kind's timing through the state it is
// given and where it runs: createRuntime in the runtime's namespaces,
// createContainer and startContainer in the container's.
func TestOCIHooks(t *testing.T) {
	b := newBox(t)
	id := b.name()
	out := t.TempDir()
	logf := filepath.Join(out, "hooks.log")
	// Each host-side hook appends "KIND STATUS UTS-NAMESPACE" to the log.
	hostHook := func(kind string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c",
			`st=$(cat); s=${st#*\"status\":\"}; echo "` + kind + ` ${s%%\"*} $(readlink /proc/self/ns/uts) $(hostname)" >> ` + logf}}
	}
	dir := b.bundle([]string{"/bin/sleep", "1000"}, func(s *specs.Spec) {
		// startContainer runs inside the container (busybox's sh), and
		// writes through a bind mount on the rootfs's empty /tmp (a new
		// mount point would be a change to the rootfs).
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "bind", Source: out,
			Options: []string{"rbind", "rw"}})
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{hostHook("prestart")},
			CreateRuntime:   []specs.Hook{hostHook("createRuntime")},
			CreateContainer: []specs.Hook{hostHook("createContainer")},
			StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c",
				`cat > /tmp/start.json; test -e /.minibox-rootfs && echo inside > /tmp/start.where`}}},
			Poststart: []specs.Hook{hostHook("poststart")},
			Poststop:  []specs.Hook{hostHook("poststop")},
		}
	})
	hostUTS, err := os.Readlink("/proc/self/ns/uts")
	assert.NilError(t, err)
	hostName, err := os.Hostname()
	assert.NilError(t, err)

	b.oci("create", "--bundle", dir, id).Assert(t, icmd.Success)
	pid := b.state(id).Pid
	ctrUTS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", pid))
	assert.NilError(t, err)
	b.oci("start", id).Assert(t, icmd.Success)
	b.oci("delete", "--force", id).Assert(t, icmd.Success)

	data, err := os.ReadFile(logf)
	assert.NilError(t, err)
	assert.DeepEqual(t, strings.Split(strings.TrimSpace(string(data)), "\n"), []string{
		"prestart creating " + hostUTS + " " + hostName,
		"createRuntime creating " + hostUTS + " " + hostName,
		"createContainer creating " + ctrUTS + " minibox",
		"poststart running " + hostUTS + " " + hostName,
		"poststop stopped " + hostUTS + " " + hostName,
	})
	var st specs.State
	data, err = os.ReadFile(filepath.Join(out, "start.json"))
	assert.NilError(t, err)
	assert.NilError(t, json.Unmarshal(data, &st))
	assert.Equal(t, st.ID, id)
	assert.Equal(t, st.Pid, pid)
	assert.Equal(t, st.Bundle, dir)
	where, err := os.ReadFile(filepath.Join(out, "start.where"))
	assert.NilError(t, err)
	assert.Equal(t, string(where), "inside\n", "startContainer must run in the container's root")
}

func TestOCIHookFailures(t *testing.T) {
	b := newBox(t)
	failing := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo broken; exit 7"}}
	for _, tc := range []struct {
		name  string
		hooks specs.Hooks
		verb  string // the verb that must fail
		want  string
	}{
		{"createRuntime", specs.Hooks{CreateRuntime: []specs.Hook{failing}}, "create",
			"createRuntime hook #0 (/bin/sh): exit status 7: broken"},
		{"createContainer", specs.Hooks{CreateContainer: []specs.Hook{failing}}, "create",
			"createContainer hook #0 (/bin/sh): exit status 7: broken"},
		{"startContainer", specs.Hooks{StartContainer: []specs.Hook{failing}}, "start",
			"init exited before start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := b.name()
			dir := b.bundle([]string{"/bin/sleep", "1000"}, func(s *specs.Spec) { s.Hooks = &tc.hooks })
			r := b.oci("create", "--bundle", dir, id)
			if tc.verb == "create" {
				r.Assert(t, icmd.Expected{ExitCode: 125, Err: tc.want})
				fails(t, b.oci("state", id), "does not exist")
				return
			}
			r.Assert(t, icmd.Success)
			b.oci("start", id).Assert(t, icmd.Expected{ExitCode: 125, Err: tc.want})
			b.waitStatus(id, specs.StateStopped)
			b.oci("delete", id).Assert(t, icmd.Success)
		})
	}
	// poststart and poststop failures are warnings: the verb succeeds.
	id := b.name()
	dir := b.bundle([]string{"/bin/sleep", "1000"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Poststart: []specs.Hook{failing}, Poststop: []specs.Hook{failing}}
	})
	b.oci("create", "--bundle", dir, id).Assert(t, icmd.Success)
	b.oci("start", id).Assert(t, icmd.Expected{Err: "warning: poststart hook #0 (/bin/sh): exit status 7: broken"})
	b.oci("delete", "--force", id).Assert(t, icmd.Expected{Err: "warning: poststop hook #0 (/bin/sh): exit status 7: broken"})
}

// listen makes a console socket like conmon's and returns its path and a
// channel that delivers the received pty master.
func listen(t *testing.T) (string, <-chan *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "console.sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	assert.NilError(t, err)
	assert.NilError(t, unix.Bind(fd, &unix.SockaddrUnix{Name: path}))
	assert.NilError(t, unix.Listen(fd, 1))
	got := make(chan *os.File, 1)
	go func() {
		defer unix.Close(fd)
		nfd, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
		if err != nil {
			close(got)
			return
		}
		conn := os.NewFile(uintptr(nfd), "conn")
		defer conn.Close()
		master, err := console.RecvFd(conn)
		if err != nil {
			close(got)
			return
		}
		got <- master
	}()
	return path, got
}

// readAll reads a pty master until the slave side is gone (EIO).
func readAll(master *os.File) string {
	var out strings.Builder
	_, _ = io.Copy(&out, master)
	return out.String()
}

func TestOCIConsoleSocket(t *testing.T) {
	b := newBox(t)
	id := b.name()
	sock, got := listen(t)
	dir := b.bundle([]string{"/bin/sh", "-c", "tty; stty size; hostname"}, func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 33, Width: 111}
	})
	b.oci("create", "--bundle", dir, "--console-socket", sock, id).Assert(t, icmd.Success)
	var master *os.File
	select {
	case master = <-got:
		assert.Assert(t, master != nil, "no pty master received")
	case <-time.After(10 * time.Second):
		t.Fatal("no pty master on the console socket")
	}
	defer master.Close()
	assert.Assert(t, console.IsTerminal(master))
	b.oci("start", id).Assert(t, icmd.Success)
	assert.Equal(t, readAll(master), "/dev/pts/0\r\n33 111\r\nminibox\r\n")
	b.waitStatus(id, specs.StateStopped)
	b.oci("delete", id).Assert(t, icmd.Success)
}

// startSleeper creates and starts a container running sleep and returns
// its ID and init pid; it is deleted at cleanup.
func (b *box) startSleeper(mutate ...func(*specs.Spec)) (string, int) {
	b.t.Helper()
	id := b.name()
	b.oci("create", "--bundle", b.bundle([]string{"/bin/sleep", "1000"}, mutate...), id).Assert(b.t, icmd.Success)
	b.t.Cleanup(func() { b.oci("delete", "--force", id) })
	b.oci("start", id).Assert(b.t, icmd.Success)
	return id, b.state(id).Pid
}

// execSleeper runs sleep in container id with a detached exec and
// returns its pid, which exec wrote to its --pid-file.
func (b *box) execSleeper(id string) int {
	b.t.Helper()
	pidFile := filepath.Join(b.t.TempDir(), "exec.pid")
	b.oci("exec", "--detach", "--pid-file", pidFile, id, "/bin/sleep", "1000").Assert(b.t, icmd.Success)
	data, err := os.ReadFile(pidFile)
	assert.NilError(b.t, err)
	pid, err := strconv.Atoi(string(data))
	assert.NilError(b.t, err)
	return pid
}

// TestOCIExec: the exec'd process is in every namespace and cgroup of the
// container (looked at from the host), and from inside sees its pid 1,
// hostname and mounts.
func TestOCIExec(t *testing.T) {
	b := newBox(t)
	id, initPid := b.startSleeper()

	r := b.oci("exec", id, "/bin/sh", "-c",
		`tr '\0' ' ' < /proc/1/cmdline; echo; hostname; echo $$;`+
			`cut -d' ' -f5 /proc/1/mountinfo | md5sum; cut -d' ' -f5 /proc/self/mountinfo | md5sum;`+
			`cat /proc/1/cgroup | md5sum; cat /proc/self/cgroup | md5sum`)
	r.Assert(t, icmd.Success)
	lines := strings.Split(strings.TrimSpace(r.Stdout()), "\n")
	assert.Assert(t, is.Len(lines, 7), r.Stdout())
	assert.Equal(t, lines[0], "/bin/sleep 1000 ")
	assert.Equal(t, lines[1], "minibox")
	assert.Assert(t, lines[2] != "1" && len(lines[2]) < 4, "pid %s is not a small pid of the container's namespace", lines[2])
	assert.Equal(t, lines[3], lines[4], "mounts differ from pid 1's")
	assert.Equal(t, lines[5], lines[6], "cgroups differ from pid 1's")

	// From the host: a detached exec's process shares init's namespaces
	// and cgroups.
	execPid := b.execSleeper(id)
	for _, ns := range []string{"mnt", "pid", "uts", "ipc", "net", "cgroup"} {
		want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", initPid, ns))
		assert.NilError(t, err)
		got, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", execPid, ns))
		assert.NilError(t, err)
		assert.Equal(t, got, want, "namespace %s", ns)
	}
	want, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", initPid))
	assert.NilError(t, err)
	got, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", execPid))
	assert.NilError(t, err)
	assert.Equal(t, string(got), string(want))

	// ps lists both, as host pids.
	r = b.oci("ps", "--format", "json", id)
	r.Assert(t, icmd.Success)
	var pids []int
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout()), &pids))
	assert.Assert(t, is.Contains(pids, initPid))
	assert.Assert(t, is.Contains(pids, execPid))
	r = b.oci("ps", id)
	r.Assert(t, icmd.Success)
	assert.Assert(t, is.Contains(r.Stdout(), strconv.Itoa(execPid)))
	assert.Assert(t, is.Contains(r.Stdout(), "/bin/sleep 1000"))
}

func TestOCIExecProcess(t *testing.T) {
	b := newBox(t)
	id, _ := b.startSleeper()
	for _, tc := range []struct {
		name string
		args []string
		want icmd.Expected
	}{
		{"exit status", []string{"/bin/sh", "-c", "exit 3"}, icmd.Expected{ExitCode: 3}},
		{"killed by a signal", []string{"/bin/sh", "-c", "kill -9 $$"}, icmd.Expected{ExitCode: 137}},
		{"not found", []string{"/nonexistent"}, icmd.Expected{ExitCode: 127, Err: `exec: "/nonexistent": no such file or directory`}},
		{"not in PATH", []string{"nosuchcmd"}, icmd.Expected{ExitCode: 127, Err: "executable file not found"}},
		{"not executable", []string{"/etc/passwd"}, icmd.Expected{ExitCode: 126, Err: "permission denied"}},
		{"env and cwd", []string{"--env", "A=1", "--cwd", "/etc", "/bin/sh", "-c", `echo $A $(pwd)`}, icmd.Expected{Out: "1 /etc"}},
		{"user", []string{"--user", "1000:1001", "/bin/sh", "-c", "id -u; id -g"}, icmd.Expected{Out: "1000\n1001"}},
		{"stdin", []string{"/bin/cat"}, icmd.Expected{Out: "fed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--root", b.root, "exec"}, tc.args[:len(tc.args)-countCmd(tc.args)]...)
			args = append(args, id)
			args = append(args, tc.args[len(tc.args)-countCmd(tc.args):]...)
			runBin(t, strings.NewReader("fed"), args...).Assert(t, tc.want)
		})
	}

	// --process: a process.json as conmon and the shim write it.
	proc := filepath.Join(t.TempDir(), "process.json")
	data, err := json.Marshal(specs.Process{Args: []string{"/bin/sh", "-c", "echo $X"}, Env: []string{"X=from-json"}, Cwd: "/"})
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(proc, data, 0o644))
	b.oci("exec", "--process", proc, id).Assert(t, icmd.Expected{Out: "from-json"})
	fails(t, b.oci("exec", "--process", proc, id, "/bin/true"), "give either --process FILE or CMD, not both")
	fails(t, b.oci("exec", id), "missing command to run")

	// A terminal through a console socket, as podman exec -t does it.
	sock, got := listen(t)
	b.oci("exec", "--detach", "--tty", "--console-socket", sock, id, "/bin/sh", "-c", "tty").Assert(t, icmd.Success)
	master := <-got
	assert.Assert(t, master != nil)
	defer master.Close()
	assert.Assert(t, is.Regexp(`^/dev/pts/\d+\r\n$`, readAll(master)))
}

// countCmd is how many trailing args of a TestOCIExecProcess case are the
// command (from its first arg that does not start with '-' and is not a
// flag's value).
func countCmd(args []string) int {
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--env", "--cwd", "--user":
			i++
		default:
			return len(args) - i
		}
	}
	return 0
}

func TestOCIExecStopped(t *testing.T) {
	b := newBox(t)
	id := b.name()
	b.oci("create", "--bundle", b.bundle([]string{"/bin/true"}), id).Assert(t, icmd.Success)
	b.oci("start", id).Assert(t, icmd.Success)
	b.waitStatus(id, specs.StateStopped)
	fails(t, b.oci("exec", id, "/bin/true"), "cannot exec in a container that is stopped")
	b.oci("delete", id).Assert(t, icmd.Success)
}

// freezerState reads the container's freezer from the host.
func freezerState(t *testing.T, id string) string {
	t.Helper()
	if cgroupV2() {
		data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/minibox", id, "cgroup.freeze"))
		assert.NilError(t, err)
		return map[string]string{"1": "FROZEN", "0": "THAWED"}[strings.TrimSpace(string(data))]
	}
	data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/freezer/minibox", id, "freezer.state"))
	assert.NilError(t, err)
	return strings.TrimSpace(string(data))
}

func TestOCIPauseResume(t *testing.T) {
	b := newBox(t)
	id, pid := b.startSleeper()
	fails(t, b.oci("resume", id), "is running, not paused")
	b.oci("pause", id).Assert(t, icmd.Success)
	assert.Equal(t, b.state(id).Status, specs.ContainerState("paused"))
	assert.Equal(t, freezerState(t, id), "FROZEN")
	fails(t, b.oci("pause", id), "already paused")
	fails(t, b.oci("exec", id, "/bin/true"), "is paused: resume it first")
	b.oci("resume", id).Assert(t, icmd.Success)
	assert.Equal(t, b.state(id).Status, specs.StateRunning)
	assert.Equal(t, freezerState(t, id), "THAWED")

	// A paused container can be force-deleted: it is killed and thawed.
	b.oci("pause", id).Assert(t, icmd.Success)
	b.oci("delete", "--force", id).Assert(t, icmd.Success)
	waitGone(t, pid)
}

func TestOCIKillAll(t *testing.T) {
	b := newBox(t)
	id, pid := b.startSleeper()
	execPid := b.execSleeper(id)
	b.oci("kill", "--all", id, "9").Assert(t, icmd.Success)
	waitGone(t, pid)
	waitGone(t, execPid)
	b.waitStatus(id, specs.StateStopped)
}

func TestOCISpec(t *testing.T) {
	dir := t.TempDir()
	runBin(t, nil, "spec", "--bundle", dir).Assert(t, icmd.Success)
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	assert.NilError(t, err)
	var s specs.Spec
	assert.NilError(t, json.Unmarshal(data, &s))
	assert.Equal(t, s.Root.Path, "rootfs")
	assert.DeepEqual(t, s.Process.Args, []string{"sh"})
	assert.Assert(t, s.Process.Terminal)
	r := runBin(t, nil, "spec", "--bundle", dir)
	r.Assert(t, icmd.Expected{ExitCode: 125, Err: "config.json already exists: remove it first"})

	rootless := t.TempDir()
	runBin(t, nil, "spec", "--rootless", "--bundle", rootless).Assert(t, icmd.Success)
	data, err = os.ReadFile(filepath.Join(rootless, "config.json"))
	assert.NilError(t, err)
	s = specs.Spec{}
	assert.NilError(t, json.Unmarshal(data, &s))
	assert.Assert(t, is.Len(s.Linux.UIDMappings, 1))
	assert.Equal(t, s.Linux.UIDMappings[0].HostID, uint32(os.Geteuid()))
}

func TestOCIFeatures(t *testing.T) {
	r := runBin(t, nil, "features")
	r.Assert(t, icmd.Success)
	var f features.Features
	assert.NilError(t, json.Unmarshal([]byte(r.Stdout()), &f))
	assert.Equal(t, f.OCIVersionMax, specs.Version)
	assert.Assert(t, is.Contains(f.Hooks, "createRuntime"))
	assert.Assert(t, is.Contains(f.MountOptions, "rbind"))
	assert.Assert(t, is.Contains(f.Linux.Capabilities, "CAP_SYS_ADMIN"))
	assert.Assert(t, is.Contains(f.Linux.Namespaces, "cgroup"))
	assert.Assert(t, *f.Linux.Cgroup.V1 && *f.Linux.Cgroup.V2 && !*f.Linux.Cgroup.Systemd)
	assert.Assert(t, *f.Linux.Seccomp.Enabled && !*f.Linux.Apparmor.Enabled)
}

func TestOCIVersionAndHelp(t *testing.T) {
	runBin(t, nil, "--version").Assert(t, icmd.Expected{Out: "minibox version"})
	r := runBin(t, nil, "--help")
	r.Assert(t, icmd.Success)
	for _, verb := range []string{"create", "start", "state", "kill", "delete", "exec", "ps", "list", "pause", "resume", "spec", "features"} {
		assert.Check(t, is.Contains(r.Stdout(), "  "+verb+" "), "--help does not list %s", verb)
	}
	assert.Check(t, !strings.Contains(r.Stdout(), "exec-init"), "--help lists the hidden exec-init")
	runBin(t, nil, "kill", "--help").Assert(t, icmd.Expected{Out: "--all"})
	fails(t, runBin(t, nil), "no command given")
}

// linux.sysctl and process.oomScoreAdj reach the container, and the
// host's values stay as they were.
func TestOCISysctlAndOOMScore(t *testing.T) {
	b := newBox(t)
	hostPing, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	assert.NilError(t, err)
	hostShm, err := os.ReadFile("/proc/sys/kernel/shmmax")
	assert.NilError(t, err)
	adj := 500
	id := b.name()
	dir := b.bundle([]string{"/bin/sh", "-c",
		"cat /proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/shmmax /proc/self/oom_score_adj"},
		func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ping_group_range": "0 0", "kernel.shmmax": "1234567"}
			s.Process.OOMScoreAdj = &adj
		})
	b.oci("run", "--bundle", dir, id).Assert(t, icmd.Expected{Out: "0\t0\n1234567\n500\n"})
	ping, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	assert.NilError(t, err)
	assert.Equal(t, string(ping), string(hostPing))
	shm, err := os.ReadFile("/proc/sys/kernel/shmmax")
	assert.NilError(t, err)
	assert.Equal(t, string(shm), string(hostShm))

	fails(t, b.oci("create", "--bundle", b.bundle([]string{"/bin/true"}, func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"kernel.panic": "1"}
	}), b.name()), `linux.sysctl "kernel.panic": not namespaced: it would change the host`)
}

// Without process.noNewPrivileges (podman and docker leave it unset) the
// seccomp filter can only be loaded while minibox still holds
// CAP_SYS_ADMIN: before the capabilities are dropped.
func TestOCISeccompWithoutNoNewPrivileges(t *testing.T) {
	b := newBox(t)
	errno := uint(38) // ENOSYS
	dir := b.bundle([]string{"/bin/sh", "-c", "/bin/probe | grep -E '^(seccomp|nonewprivs|capeff)='; /bin/probe hostname x"},
		func(s *specs.Spec) {
			s.Process.NoNewPrivileges = false
			s.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"sethostname"},
					Action: specs.ActErrno, ErrnoRet: &errno}},
			}
		})
	r := b.oci("run", "--bundle", dir, b.name())
	r.Assert(t, icmd.Expected{ExitCode: 1, Out: "nonewprivs=0\nseccomp=2\n"})
	// ENOSYS, not EPERM: the filter answered, not the missing capability.
	assert.Assert(t, is.Contains(r.Stdout(), "result=ENOSYS"))
	// runc spec's three capabilities, without CAP_SYS_ADMIN: dropped after
	// the filter was loaded.
	assert.Assert(t, is.Contains(r.Stdout(), "capeff=0000000020000420\n"))
}

// A time namespace (features lists it) is the container's own.
func TestOCITimeNamespace(t *testing.T) {
	b := newBox(t)
	host, err := os.Readlink("/proc/self/ns/time")
	if err != nil {
		t.Skipf("no time namespaces on this kernel (%v)", err)
	}
	dir := b.bundle([]string{"/bin/readlink", "/proc/self/ns/time"}, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
	})
	r := b.oci("run", "--bundle", dir, b.name())
	r.Assert(t, icmd.Expected{Out: "time:["})
	assert.Assert(t, !strings.Contains(r.Stdout(), host), "the host's time namespace: %s", r.Stdout())
}
