package main

// The actions: each tries one thing that isolation should allow or forbid
// and reports what happened as key=value lines. run() adds the final
// result=ok or result=ERRNO line and the exit status.

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// action is one probe verb. run returns the lines to print before result=;
// a usageError return means bad arguments (exit 2), any other error is the
// failure the action reports (exit 1).
type action struct {
	usage            string
	minArgs, maxArgs int
	run              func(args []string) ([]kv, error)
}

var actions = map[string]action{
	"alloc":     {"MIB", 1, 1, alloc},
	"fork":      {"N", 1, 1, fork},
	"escape":    {"", 0, 0, escape},
	"exit":      {"N", 1, 1, exit},
	"sleep":     {"SECONDS", 1, 1, sleep},
	"kill-self": {"SIGNAL", 1, 1, killSelf},
	"hostname":  {"NAME", 1, 1, setHostname},
	"open":      {"PATH [r|w]", 1, 2, open},
	"mount":     {"[DIR]", 0, 1, mount},
	"mknod":     {"PATH MAJOR MINOR", 3, 3, mknod},
	"read":      {"PATH", 1, 1, read},
	"write":     {"PATH DATA", 2, 2, write},
	"kill":      {"PID SIGNAL", 2, 2, kill},
	"ptrace":    {"PID", 1, 1, ptrace},
	"modload":   {"", 0, 0, modload},
}

// usageError marks bad arguments, as opposed to a failed attempt.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errnoName turns an error into the name of its errno (EPERM), the form
// the result= line uses; errors without an errno print as text without
// spaces so the line stays one token.
func errnoName(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
		return "errno" + strconv.Itoa(int(errno))
	}
	return strings.ReplaceAll(err.Error(), " ", "_")
}

// nonNegative parses a count argument.
func nonNegative(s, what string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, usageError{fmt.Sprintf("%s must be a whole number >= 0, got %q", what, s)}
	}
	return n, nil
}

// parseSignal accepts KILL, SIGKILL or 9.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, usageError{fmt.Sprintf("unknown signal %q", s)}
}

// alloc maps MIB MiB of anonymous memory and writes one byte in every page,
// so the kernel really backs (and charges to the memory cgroup) each page.
// Over the cgroup's limit the OOM killer ends the process with SIGKILL
// (exit status 137) before anything is printed.
func alloc(args []string) ([]kv, error) {
	mib, err := nonNegative(args[0], "MIB")
	if err != nil {
		return nil, err
	}
	if mib == 0 {
		return []kv{{"allocated", "0"}}, nil
	}
	// mmap(2) instead of make(): a refused mapping is an error to report,
	// where the Go runtime would abort the whole program.
	mem, err := unix.Mmap(-1, 0, mib<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("mmap %d MiB: %w", mib, err)
	}
	page := os.Getpagesize()
	for i := 0; i < len(mem); i += page {
		mem[i] = 1
	}
	if err := unix.Munmap(mem); err != nil {
		return nil, fmt.Errorf("munmap: %w", err)
	}
	return []kv{{"allocated", strconv.Itoa(mib)}}, nil
}

// sleeperTime is how long a forked child sleeps at most. It is a global so
// the child can pass its address to nanosleep(2) without allocating.
var sleeperTime = unix.Timespec{Sec: 300}

// sleeperParent is the probe's pid, which a child compares with getppid(2).
var sleeperParent uintptr

// forkSleeper forks a child that sleeps until killed, using the raw
// clone(2) system call (as fork(2) does) instead of os/exec.
//
// Why raw: the pids controller counts every task, threads included. A child
// started through os/exec and another Go program would start several
// threads each and could die mid-start when the limit hits; this child is a
// single task that only ever makes raw system calls. After fork only the
// calling thread exists in the child, so it must not run the Go scheduler,
// allocate or grow its stack: hence go:nosplit and raw calls only (the same
// rules syscall.forkAndExecInChild follows).
//
//go:nosplit
//go:norace
func forkSleeper() (int, syscall.Errno) {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	if pid != 0 {
		return int(pid), 0
	}
	// Child. prctl(2) PR_SET_PDEATHSIG: die with the probe, so a killed
	// probe leaves no sleepers behind; then check the probe did not die
	// before that took effect.
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0)
	if ppid, _, _ := syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0); ppid == sleeperParent {
		// nanosleep(2) bounds the sleep in case nobody kills the child.
		syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&sleeperTime)), 0, 0)
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	return 0, 0 // not reached
}

// fork starts N sleeping children, reports how many it got and the error
// that stopped it (EAGAIN when the pids limit is reached), then kills and
// reaps them all.
func fork(args []string) ([]kv, error) {
	n, err := nonNegative(args[0], "N")
	if err != nil {
		return nil, err
	}
	sleeperParent = uintptr(os.Getpid())
	var pids []int
	var forkErr error
	for range n {
		pid, errno := forkSleeper()
		if errno != 0 {
			forkErr = errno
			break
		}
		pids = append(pids, pid)
	}
	for _, pid := range pids {
		// kill(2) SIGKILL then wait4(2), so no child outlives the probe
		// and none is left a zombie.
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && forkErr == nil {
			forkErr = fmt.Errorf("kill %d: %w", pid, err)
		}
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if err != unix.EINTR {
				break
			}
		}
	}
	out := []kv{{"forked", strconv.Itoa(len(pids))}, {"fork_error", "none"}}
	if forkErr != nil {
		out[1].value = errnoName(forkErr)
	}
	return out, forkErr
}

// escape tries the classic chroot(2) escape: chroot into a subdirectory
// while the working directory stays outside it, climb with chdir("..")
// (nothing stops the climb at a root the cwd is not below), then chroot(".")
// to wherever the climb ended. That is the host's / when the container's
// root was only set with chroot(2); after pivot_root(2) and unmounting the
// old root there is nothing above the rootfs to climb to.
//
// It uses an existing directory instead of creating one, so the rootfs is
// never modified.
func escape([]string) ([]kv, error) {
	contained := []kv{{"escape", "contained"}}
	if err := unix.Chdir("/"); err != nil {
		return contained, fmt.Errorf("chdir /: %w", err)
	}
	dir := ""
	entries, err := os.ReadDir("/")
	if err != nil {
		return contained, fmt.Errorf("read /: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			dir = "/" + e.Name()
			if e.Name() == "tmp" {
				break
			}
		}
	}
	if dir == "" {
		return contained, errors.New("no directory in / to chroot into")
	}
	if err := unix.Chroot(dir); err != nil {
		return contained, fmt.Errorf("chroot %s: %w", dir, err)
	}
	for range 256 {
		if err := unix.Chdir(".."); err != nil {
			return contained, fmt.Errorf("chdir ..: %w", err)
		}
	}
	if err := unix.Chroot("."); err != nil {
		return contained, fmt.Errorf("chroot .: %w", err)
	}
	if _, err := os.Lstat(markerPath); err != nil {
		return []kv{{"escape", "host"}}, nil
	}
	return contained, nil
}

func exit(args []string) ([]kv, error) {
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 || n > 255 {
		return nil, usageError{fmt.Sprintf("status must be 0..255, got %q", args[0])}
	}
	os.Exit(n)
	return nil, nil
}

func sleep(args []string) ([]kv, error) {
	secs, err := strconv.ParseFloat(args[0], 64)
	if err != nil || secs < 0 {
		return nil, usageError{fmt.Sprintf("SECONDS must be a number >= 0, got %q", args[0])}
	}
	time.Sleep(time.Duration(secs * float64(time.Second)))
	return nil, nil
}

// killSelf sends a signal to the probe itself. Go's runtime lets the
// default action of a fatal signal happen (the process dies by it), so the
// parent sees "killed by signal N". If the probe is still alive a second
// later the signal was ignored or blocked: that is the reported failure.
func killSelf(args []string) ([]kv, error) {
	sig, err := parseSignal(args[0])
	if err != nil {
		return nil, err
	}
	if err := unix.Kill(os.Getpid(), sig); err != nil {
		return nil, fmt.Errorf("kill %d %v: %w", os.Getpid(), sig, err)
	}
	time.Sleep(time.Second)
	return nil, fmt.Errorf("still_alive_after_%s", unix.SignalName(sig))
}

// setHostname calls sethostname(2), which needs CAP_SYS_ADMIN in the UTS
// namespace's user namespace.
func setHostname(args []string) ([]kv, error) {
	return nil, unix.Sethostname([]byte(args[0]))
}

func open(args []string) ([]kv, error) {
	flags := unix.O_RDONLY
	if len(args) == 2 {
		switch args[1] {
		case "r":
		case "w":
			flags = unix.O_WRONLY
		default:
			return nil, usageError{fmt.Sprintf("mode must be r or w, got %q", args[1])}
		}
	}
	fd, err := unix.Open(args[0], flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return nil, unix.Close(fd)
}

// mount mounts a tmpfs and unmounts it at once: mount(2) needs
// CAP_SYS_ADMIN and is commonly refused by seccomp profiles.
func mount(args []string) ([]kv, error) {
	target := "/tmp"
	if len(args) == 1 {
		target = args[0]
	} else if _, err := os.Lstat(markerPath); err != nil {
		// Not in the rootfs, so probably the host's mount namespace: use
		// a fresh directory so no host path is hidden, even for an instant.
		// In the rootfs /tmp itself is used, so the rootfs is not written.
		dir, err := os.MkdirTemp("", "probe-mount-")
		if err != nil {
			return nil, err
		}
		defer os.Remove(dir)
		target = dir
	}
	if err := unix.Mount("probe", target, "tmpfs", 0, "size=64k"); err != nil {
		return nil, err
	}
	// umount2(2): leave nothing mounted behind.
	if err := unix.Unmount(target, 0); err != nil {
		return nil, fmt.Errorf("umount %s: %w", target, err)
	}
	return nil, nil
}

// mknod creates a character device node (needs CAP_MKNOD; the devices
// cgroup decides whether it can be opened), then removes it.
func mknod(args []string) ([]kv, error) {
	major, err := nonNegative(args[1], "MAJOR")
	if err != nil {
		return nil, err
	}
	minor, err := nonNegative(args[2], "MINOR")
	if err != nil {
		return nil, err
	}
	dev := unix.Mkdev(uint32(major), uint32(minor))
	if err := unix.Mknod(args[0], unix.S_IFCHR|0o600, int(dev)); err != nil {
		return nil, err
	}
	return nil, os.Remove(args[0])
}

func read(args []string) ([]kv, error) {
	data, err := os.ReadFile(args[0])
	if err != nil {
		return nil, err
	}
	shown := data
	if len(shown) > 4096 {
		shown = shown[:4096]
	}
	text := strings.ReplaceAll(strings.TrimRight(string(shown), "\n"), "\n", `\n`)
	return []kv{{"bytes", strconv.Itoa(len(data))}, {"data", text}}, nil
}

func write(args []string) ([]kv, error) {
	f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(args[1]); err != nil {
		f.Close()
		return nil, err
	}
	return nil, f.Close()
}

func kill(args []string) ([]kv, error) {
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return nil, usageError{fmt.Sprintf("PID must be a number, got %q", args[0])}
	}
	sig, err := parseSignal(args[1])
	if err != nil {
		return nil, err
	}
	return nil, unix.Kill(pid, sig)
}

// ptrace attaches with PTRACE_SEIZE, which, unlike PTRACE_ATTACH, does not
// stop the tracee; the kernel detaches it when the probe exits.
func ptrace(args []string) ([]kv, error) {
	pid, err := strconv.Atoi(args[0])
	if err != nil || pid <= 0 {
		return nil, usageError{fmt.Sprintf("PID must be a number > 0, got %q", args[0])}
	}
	return nil, unix.PtraceSeize(pid)
}

// modload asks init_module(2) to load an empty image. The kernel checks
// CAP_SYS_MODULE (and modules_disabled) first and only then looks at the
// image, so ENOEXEC or EINVAL means the permission check passed: nothing is
// ever loaded.
func modload([]string) ([]kv, error) {
	err := unix.InitModule(nil, "")
	if errors.Is(err, unix.ENOEXEC) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EFAULT) {
		return []kv{{"modload_errno", errnoName(err)}}, nil
	}
	if err == nil {
		return nil, errors.New("empty_module_accepted")
	}
	return nil, err
}
