package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/cgroups"
	"minibox.dev/final/internal/initproc"
	"minibox.dev/final/internal/nsenter"
)

// ExecOptions are the inputs of Exec.
type ExecOptions struct {
	Process *specs.Process
	// Stdin, Stdout, Stderr are the process's stdio. They must be files
	// (or nil: /dev/null): a pipe copied by a goroutine would keep Exec
	// waiting for the process to exit.
	Stdin, Stdout, Stderr *os.File
	// ConsoleSocket receives the pty master when Process.Terminal is set.
	ConsoleSocket *os.File
}

// Exec starts a new process in the running (or created) container and
// returns its pid as the host sees it. How (see package nsenter):
//
//  1. start `minibox exec-init`; nsenter's constructor holds it before
//     the Go runtime starts;
//  2. put it in the container's cgroup;
//  3. release it: it joins the container's namespaces (those of the
//     container's init, read from /proc/PID/ns) and forks, because only a
//     child enters a PID namespace; the child's pid comes back;
//  4. send the child the process config; it sets up and execs, and its
//     end of the socket closes on success, or an error comes back.
//
// The caller waits for the pid with wait4(2) if it made itself a child
// subreaper before Exec (the fork's parent has exited, so the process is
// re-parented to the nearest subreaper); otherwise it belongs to whoever
// is (conmon, the containerd shim) or to the host's init.
func (c *Container) Exec(o ExecOptions) (int, error) {
	switch st := c.StatusWithPause(); st {
	case specs.StateRunning, specs.StateCreated:
	case StatePaused:
		return 0, fmt.Errorf("container %s is paused: resume it first", c.ID)
	default:
		return 0, fmt.Errorf("container %s: cannot exec in a container that is %s", c.ID, st)
	}
	if o.Process.Terminal && o.ConsoleSocket == nil {
		return 0, fmt.Errorf("process.terminal needs a console socket")
	}
	paths, err := nsenter.Paths(c.Pid)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", c.ID, err)
	}
	if len(paths) == 0 {
		return 0, fmt.Errorf("exec in %s: the container shares every namespace with minibox", c.ID)
	}
	cg, err := cgroups.Load(c.CgroupPath)
	if err != nil {
		return 0, err
	}

	cmd := exec.Command("/proc/self/exe", "exec-init")
	cmd.Env = []string{} // the process's env travels in the config
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	cfg := initproc.ExecConfig{Process: o.Process}
	if c.Spec != nil && c.Spec.Linux != nil {
		cfg.Seccomp = c.Spec.Linux.Seccomp
	}
	if o.ConsoleSocket != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, o.ConsoleSocket)
		cfg.ConsoleFd = 3
	}
	// nsenter.Start appends the sync socket after our files.
	cmd.Args = append(cmd.Args, strconv.Itoa(3+len(cmd.ExtraFiles)))
	j, err := nsenter.Start(cmd, paths)
	if err != nil {
		return 0, err
	}
	defer j.Close()
	if err := cg.Apply(j.Pid()); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return 0, fmt.Errorf("exec in %s: join cgroup: %w", c.ID, err)
	}
	pid, err := j.Release()
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", c.ID, err)
	}
	if err := json.NewEncoder(j.Sync()).Encode(&cfg); err != nil {
		_ = unix.Kill(pid, unix.SIGKILL)
		return 0, fmt.Errorf("exec in %s: send config: %w", c.ID, err)
	}
	var msg initproc.Message
	switch err := json.NewDecoder(j.Reader).Decode(&msg); {
	case errors.Is(err, io.EOF):
		return pid, nil // the socket closed on execve(2): it runs
	case err != nil:
		return 0, fmt.Errorf("exec in %s: %w", c.ID, err)
	}
	code := msg.Code
	if code == 0 {
		code = 125
	}
	// The process has reported and exits: reap it if it is ours.
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, 0, nil)
	return 0, &Error{Code: code, Err: errors.New(msg.Error)}
}

// ExecInit is the hidden `minibox exec-init SYNCFD`: the process Exec
// started, now inside the container's namespaces.
func ExecInit(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("exec-init: want SYNCFD (internal command of minibox exec)")
	}
	fd, err := strconv.Atoi(args[0])
	if err != nil || fd < 3 {
		return fmt.Errorf("exec-init: bad descriptor %q", args[0])
	}
	initproc.ExecMain(fd) // does not return
	return nil
}
