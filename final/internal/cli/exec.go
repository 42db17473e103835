package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/console"
	"minibox.dev/final/internal/container"
	"minibox.dev/final/internal/spec"
)

// execOpts are exec's flags, runc's names.
type execOpts struct {
	process       string
	detach        bool
	pidFile       string
	tty           bool
	consoleSocket string
	cwd           string
	env           multiFlag
	user          string
	args          []string
}

// multiFlag collects a repeatable flag (--env A=1 --env B=2).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func execCommand() *Command {
	c := &Command{Name: "exec", Args: "[FLAGS] ID [CMD [ARG...]]",
		Summary: "run another process in a running container (its namespaces and cgroup)"}
	c.Run = func(g *Global, args []string) error {
		f := newFlags(c)
		var o execOpts
		f.StringVar(&o.process, "process", "", "a process.json (the config's process object) instead of CMD")
		f.StringVar(&o.process, "p", "", "")
		f.BoolVar(&o.detach, "detach", false, "return once the process runs (pid in --pid-file)")
		f.BoolVar(&o.detach, "d", false, "")
		f.StringVar(&o.pidFile, "pid-file", "", "write the process's pid (as the host sees it) to FILE")
		f.BoolVar(&o.tty, "tty", false, "give the process a new pty")
		f.BoolVar(&o.tty, "t", false, "")
		f.StringVar(&o.consoleSocket, "console-socket", "", "unix socket to send the pty master to (with --tty)")
		f.StringVar(&o.cwd, "cwd", "", "working directory inside the container")
		f.Var(&o.env, "env", "set an environment variable KEY=VALUE (repeatable)")
		f.Var(&o.env, "e", "")
		f.StringVar(&o.user, "user", "", "UID[:GID] to run as (numbers)")
		f.StringVar(&o.user, "u", "", "")
		rest, err := f.parse(g, args, 1, -1)
		if err != nil {
			return err
		}
		o.args = rest[1:]
		ct, err := load(g, rest[0])
		if err != nil {
			return err
		}
		p, err := execProcess(ct.Spec, &o)
		if err != nil {
			return err
		}
		return execIn(g, ct, p, &o)
	}
	return c
}

// execProcess builds the process to run: --process as given, or the
// container's own process with CMD, --tty, --cwd, --env and --user applied
// (so it keeps the container's capabilities, rlimits and no_new_privs).
func execProcess(s *specs.Spec, o *execOpts) (*specs.Process, error) {
	if o.process != "" {
		if len(o.args) > 0 {
			return nil, &UsageError{Cmd: "exec", Msg: "give either --process FILE or CMD, not both"}
		}
		p, err := spec.LoadProcess(o.process)
		if err != nil {
			return nil, err
		}
		if o.tty {
			p.Terminal = true
		}
		return p, nil
	}
	if len(o.args) == 0 {
		return nil, &UsageError{Cmd: "exec", Msg: "missing command to run (or --process FILE)"}
	}
	if s == nil || s.Process == nil {
		return nil, errors.New("exec: the container's config has no process to start from")
	}
	p := *s.Process
	p.Args = o.args
	p.Terminal = o.tty
	p.ConsoleSize = nil
	p.Env = append(append([]string(nil), s.Process.Env...), o.env...)
	if o.cwd != "" {
		p.Cwd = o.cwd
	}
	if o.user != "" {
		uid, gid, err := parseUIDGID(o.user)
		if err != nil {
			return nil, &UsageError{Cmd: "exec", Msg: err.Error()}
		}
		p.User = specs.User{UID: uid, GID: gid, Umask: s.Process.User.Umask}
	}
	if err := spec.ValidateProcess(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

func parseUIDGID(s string) (uint32, uint32, error) {
	u, g, hasG := strings.Cut(s, ":")
	uid, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: want UID[:GID] as numbers", s)
	}
	gid := uint64(0)
	if hasG {
		if gid, err = strconv.ParseUint(g, 10, 32); err != nil {
			return 0, 0, fmt.Errorf("--user %q: want UID[:GID] as numbers", s)
		}
	}
	return uint32(uid), uint32(gid), nil
}

// execIn starts p in the container. Detached, it writes the pid file and
// returns: the process belongs to our caller's subreaper (conmon, the
// shim). Attached, minibox becomes a child subreaper so the process is
// re-parented to it, forwards signals, attaches the pty if it made one,
// and exits with the process's status.
func execIn(g *Global, ct *container.Container, p *specs.Process, o *execOpts) error {
	eo := container.ExecOptions{Process: p, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	var local *os.File
	switch {
	case p.Terminal && o.consoleSocket != "":
		sock, err := console.Dial(o.consoleSocket)
		if err != nil {
			return err
		}
		defer sock.Close()
		eo.ConsoleSocket = sock
	case p.Terminal && o.detach:
		return errors.New("exec --detach with a terminal needs --console-socket to receive it")
	case p.Terminal:
		var remote *os.File
		var err error
		if local, remote, err = terminalPair(p); err != nil {
			return err
		}
		defer local.Close()
		defer remote.Close()
		eo.ConsoleSocket = remote
	case o.consoleSocket != "":
		return errors.New("--console-socket given but the process has no terminal (--tty)")
	}
	var sigs chan os.Signal
	if !o.detach {
		// prctl(2) PR_SET_CHILD_SUBREAPER: orphaned descendants are
		// re-parented to us, so we can wait for the exec'd process
		// once nsenter's intermediate process has exited.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
		}
		sigs = make(chan os.Signal, 16)
		signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
		defer signal.Stop(sigs)
	}
	pid, err := ct.Exec(eo)
	if err != nil {
		return exitCodeOf(g, err)
	}
	if o.pidFile != "" {
		if err := writePidFile(o.pidFile, pid); err != nil {
			if !o.detach {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
			return err
		}
	}
	if o.detach {
		return nil
	}
	attached := noTerminal()
	if local != nil {
		master, err := console.RecvFd(local)
		if err != nil {
			_ = unix.Kill(pid, unix.SIGKILL)
			return err
		}
		defer master.Close()
		attached = attach(master, os.Stdin)
	}
	go func() {
		for sig := range sigs {
			_ = unix.Kill(pid, sig.(unix.Signal))
		}
	}()
	code, err := waitPid(pid)
	if err != nil {
		return err
	}
	<-attached
	return &ExitError{Code: code}
}

// waitPid waits for pid with wait4(2) and returns its status as a shell
// reports it: the exit code, or 128+N when signal N killed it.
func waitPid(pid int) (int, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("wait for %d: %w", pid, err)
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

func execInitCommand() *Command {
	return &Command{Name: "exec-init", Hidden: true, Args: "SYNCFD",
		Summary: "internal: the process `exec` starts inside a container",
		Run:     func(g *Global, args []string) error { return container.ExecInit(args) },
	}
}
