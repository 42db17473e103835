// Command minibox runs a command in a container, one isolation layer per step.
//
//	minibox run [FLAGS] CMD [ARG...]
//
// main dispatches two verbs: run, which you type, and child, the half of
// minibox that runs as the container's first process. README.md says what
// this step adds; `scripts/stepdiff` shows it as a diff against the step
// before.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

const usage = "usage: minibox run [FLAGS] CMD [ARG...] (minibox run -h lists the flags)"

// init keeps the main goroutine on the main thread, because the parent-death
// signal (Pdeathsig, prctl(2) PR_SET_PDEATHSIG) belongs to a thread, not to
// a process: run forks the container from the main thread, which lives as
// long as minibox does, and child execs the command from the main thread,
// the only one of the new process that has the signal set. An execve(2)
// from another thread would turn that thread, without it, into the process.
func init() { runtime.LockOSThread() }

func main() {
	verb, args := "", []string(nil)
	if len(os.Args) > 1 {
		verb, args = os.Args[1], os.Args[2:]
	}
	var code int
	var err error
	switch verb {
	case "run":
		code, err = run(args)
	case "child":
		err = child(args) // returns only if the command could not be started
	case "-h", "--help", "help":
		fmt.Println(usage)
		return
	case "":
		err = errors.New("no command given; " + usage)
	default:
		err = fmt.Errorf("unknown command %q; %s", verb, usage)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // parseFlags printed the help
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "minibox: %v%s\n", err, hint(err))
		os.Exit(exitCode(err))
	}
	os.Exit(code)
}

// config is what `minibox run` was asked to do. run and child parse the same
// arguments, so both halves agree on it without passing any other state.
type config struct {
	cmd []string // the command and its arguments

	hostname string // --hostname: the container's host name
	rootfs   string // --rootfs: absolute path of the container's /
}

// parseFlags parses run's arguments: flags, then the command. Flags end at
// the first argument that is not one, so `run sh -c 'echo -x'` works.
func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.hostname, "hostname", "minibox", "the container's host `NAME`")
	fs.StringVar(&cfg.rootfs, "rootfs", "", "the container's root `DIR` (default: rootfs/ of the workspace)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Println(usage)
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
		}
		return cfg, fmt.Errorf("run: %w", err)
	}
	cfg.cmd = fs.Args()
	if len(cfg.cmd) == 0 {
		return cfg, errors.New("run: no command given; " + usage)
	}
	if n := len(cfg.hostname); n == 0 || n > 64 {
		return cfg, fmt.Errorf("run: --hostname %q: want 1 to 64 characters", cfg.hostname)
	}
	var err error
	if cfg.rootfs, err = findRootfs(cfg.rootfs); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// run starts the container: it re-executes this binary as `child` in new
// namespaces, relays signals to it, waits for it and returns its exit status.
func run(args []string) (code int, err error) {
	if _, err := parseFlags(args); err != nil {
		return 0, err
	}
	cmd := exec.Command("/proc/self/exe", append([]string{"child"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// clone(2) gives the child new namespaces (namespaces(7)): its own
		// host name (UTS), PID numbers (it is PID 1) and mount table.
		Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS,
		// prctl(2) PR_SET_PDEATHSIG: the kernel SIGKILLs the child when
		// minibox dies, so a container never outlives its runtime.
		Pdeathsig: syscall.SIGKILL,
	}
	// Catch INT and TERM from now on, so that they reach the container
	// instead of killing minibox (see forwarding below).
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start container: %w", err)
	}
	// Forward INT and TERM to the container's PID 1. The kernel delivers
	// them only if PID 1 handles them: PID 1 gets no default actions
	// (pid_namespaces(7)), which is why `docker run --init` exists.
	go func() {
		for sig := range signals {
			cmd.Process.Signal(sig) // kill(2)
		}
	}()
	return wait(cmd)
}

// wait waits for the container and returns its exit status the way a shell
// reports it: the command's own code, or 128+N when signal N killed it.
func wait(cmd *exec.Cmd) (int, error) {
	// wait4(2), inside cmd.Wait, blocks until the child exits and returns
	// its wait status: exit code, or the signal that killed it.
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return 0, fmt.Errorf("wait for pid %d: %w", cmd.Process.Pid, err)
	}
	status, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if status.Signaled() {
		return 128 + int(status.Signal()), nil
	}
	return status.ExitStatus(), nil
}

// child runs as PID 1 of the new namespaces: it sets the container up, then
// replaces itself with the command.
func child(args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	// sethostname(2) changes the name in our new UTS namespace only.
	if err := unix.Sethostname([]byte(cfg.hostname)); err != nil {
		return fmt.Errorf("sethostname %s: %w", cfg.hostname, err)
	}
	// mount(2) MS_REC|MS_PRIVATE on / stops mount events from propagating
	// between our new mount namespace and the host's. systemd mounts /
	// shared, and clone(2) copies that: without this the proc we mount
	// next would also cover the host's /proc (mount_namespaces(7),
	// "Shared subtrees"). Go remounts / private by itself only for
	// Unshareflags, not for Cloneflags, so we do it here, visibly.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: mount: %w", err)
	}
	if err := pivotRoot(cfg.rootfs); err != nil {
		return err
	}
	// mount(2) a new proc filesystem on /proc: a proc shows the PID
	// namespace of whoever mounted it, so ps now sees only the container
	// (proc(5), pid_namespaces(7)).
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount proc on /proc: %w", err)
	}
	return execCommand(cfg.cmd)
}

// pivotRoot makes rootfs the container's / and removes every path to the
// host's files. chroot(2) would only change how paths are resolved, and the
// classic escape climbs out of it; pivot_root(2) moves the mounts themselves.
func pivotRoot(rootfs string) error {
	// mount(2) MS_BIND rootfs onto itself: pivot_root(2) wants new_root to
	// be a mount point, and a plain directory is not one (EINVAL).
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount %s: %w", rootfs, err)
	}
	// chdir(2) into it, for the pivot_root(".", ".") form below.
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	// pivot_root(2) with new_root and put_old both "." makes rootfs the new
	// / and stacks the old root on top of it, so no directory has to be
	// created in the rootfs for the old root (pivot_root(2), NOTES).
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", rootfs, err)
	}
	// umount2(2) the old root, stacked on ".": MNT_DETACH because the host's
	// mounts below it are busy; they vanish from this namespace at once.
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("umount old root: %w", err)
	}
	// chdir(2) to the new /: the working directory still pointed into the
	// old root's stack.
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// execCommand replaces minibox with the command, looked up in $PATH.
func execCommand(argv []string) error {
	// stat(2) each $PATH candidate: the first executable one wins.
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return &commandError{argv[0], err}
	}
	// execve(2) runs the command in this same process: it keeps our PID,
	// namespaces and cgroup. It returns only on failure.
	if err := unix.Exec(path, argv, os.Environ()); err != nil {
		return &commandError{argv[0], err}
	}
	return nil
}

// commandError is a command that could not be started. It gets docker's exit
// status: 127 if it does not exist, 126 if it cannot be executed.
type commandError struct {
	name string
	err  error
}

func (e *commandError) Error() string {
	err := e.err
	var execErr *exec.Error
	if errors.As(err, &execErr) {
		err = execErr.Err
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	return fmt.Sprintf("exec %s: %v", e.name, err)
}

func (e *commandError) Unwrap() error { return e.err }

// exitCode is minibox's exit status for err: 127 and 126 for a command that
// could not be started, 125 when minibox itself failed.
func exitCode(err error) int {
	var cmdErr *commandError
	switch {
	case !errors.As(err, &cmdErr):
		return 125
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return 127
	case errors.Is(err, fs.ErrPermission), errors.Is(err, unix.ENOEXEC):
		return 126
	}
	return 125
}

// hint adds the fix for the most common failure: not being root.
func hint(err error) string {
	var cmdErr *commandError
	if os.Geteuid() != 0 && !errors.As(err, &cmdErr) &&
		(errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) {
		return " (minibox needs root: run it with sudo)"
	}
	return ""
}

// findRootfs returns the absolute path of the container's root filesystem:
// dir if --rootfs was given, else rootfs/ beside the go.work above the binary
// or the working directory, so that `sudo go run . run sh` works in a step
// folder once scripts/rootfs has built it.
func findRootfs(dir string) (string, error) {
	if dir == "" {
		dir = workspaceRootfs()
		if dir == "" {
			return "", errors.New("no rootfs: no go.work above the binary or the working directory; pass --rootfs DIR or run scripts/rootfs in the workspace")
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("rootfs %s: %w", dir, err)
	}
	if info, err := os.Stat(abs); err != nil || !info.IsDir() {
		return "", fmt.Errorf("no rootfs at %s: run scripts/rootfs (or pass --rootfs DIR)", abs)
	}
	return abs, nil
}

// workspaceRootfs walks up from the binary's folder, then from the working
// directory, to the folder holding go.work and returns its rootfs/, or "".
func workspaceRootfs() string {
	var starts []string
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
				return filepath.Join(dir, "rootfs")
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}
