package initproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/security"
)

// ExecConfig is what `minibox exec` sends the process it started inside a
// running container (package nsenter has already put it in every namespace
// of the container and the parent in its cgroup).
type ExecConfig struct {
	Process *specs.Process
	// Seccomp is the container's filter: an exec'd process gets the same
	// one as the container's own process, as with runc.
	Seccomp *specs.LinuxSeccomp
	// ConsoleFd is the descriptor of the socket the pty master goes to
	// (process.terminal), 0 for none.
	ConsoleFd int
}

// ExecMain is the hidden `minibox exec-init SYNCFD` that `minibox exec`
// starts through nsenter. It reads an ExecConfig from the sync socket,
// prepares the process as init prepares the container's (working
// directory, rlimits, terminal, user, capabilities, no_new_privs, seccomp)
// and execs it. Errors go back as a Message; success is the socket closing
// on execve(2) (it is close-on-exec). It never returns.
func ExecMain(syncFd int) {
	// Capabilities and the seccomp filter are set per thread: the thread
	// that sets them must be the one that calls execve(2).
	runtime.LockOSThread()
	sync := os.NewFile(uintptr(syncFd), "sync")
	unix.CloseOnExec(syncFd)
	prog, argv, env, err := execSetup(sync)
	if err == nil {
		// execve(2): the process becomes the user's program, already in
		// the container's namespaces and cgroup.
		err = unix.Exec(prog, argv, env)
		err = &codeError{execCode(err), fmt.Errorf("exec %s: %w", argv[0], err)}
	}
	code := 125
	var ce *codeError
	if errors.As(err, &ce) {
		code = ce.code
	}
	_ = json.NewEncoder(sync).Encode(Message{Type: "error", Error: err.Error(), Code: code})
	os.Exit(code)
}

func execSetup(sync *os.File) (prog string, argv, env []string, err error) {
	var cfg ExecConfig
	if err := json.NewDecoder(sync).Decode(&cfg); err != nil {
		return "", nil, nil, fmt.Errorf("read exec config from parent: %w", err)
	}
	p := cfg.Process
	if p == nil || len(p.Args) == 0 {
		return "", nil, nil, fmt.Errorf("exec config without a process")
	}
	if cfg.ConsoleFd > 0 {
		unix.CloseOnExec(cfg.ConsoleFd)
	}
	// setns(2) into the mount namespace put us at the container's root;
	// the working directory is relative to it.
	if err := unix.Chdir(p.Cwd); err != nil {
		return "", nil, nil, fmt.Errorf("chdir to cwd %s: %w", p.Cwd, err)
	}
	if err := applyOOMScoreAdj(p.OOMScoreAdj); err != nil {
		return "", nil, nil, err
	}
	if err := security.SetRlimits(p.Rlimits); err != nil {
		return "", nil, nil, err
	}
	if p.Terminal {
		if cfg.ConsoleFd <= 0 {
			return "", nil, nil, fmt.Errorf("process.terminal without a console socket")
		}
		// The exec'd process gets its own pty from the container's devpts
		// (we are in its mount namespace, so /dev/ptmx is the
		// container's); /dev/console stays init's.
		if err := terminal(os.NewFile(uintptr(cfg.ConsoleFd), "console-socket"), p.ConsoleSize, false); err != nil {
			return "", nil, nil, err
		}
	}
	if prog, err = lookPath(p.Args[0], p.Env); err != nil {
		return "", nil, nil, err
	}
	if err := applyPrivileges(p, cfg.Seccomp); err != nil {
		return "", nil, nil, err
	}
	return prog, p.Args, p.Env, nil
}
