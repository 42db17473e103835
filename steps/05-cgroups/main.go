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
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	limits          // --memory, --pids-limit, --cpus
}

// parseFlags parses run's arguments: flags, then the command. Flags end at
// the first argument that is not one, so `run sh -c 'echo -x'` works.
func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.hostname, "hostname", "minibox", "the container's host `NAME`")
	fs.StringVar(&cfg.rootfs, "rootfs", "", "the container's root `DIR` (default: rootfs/ of the workspace)")
	fs.Func("memory", "memory limit: bytes or a `SIZE` like 64m, 1g", func(s string) (err error) {
		cfg.memory, err = parseSize(s)
		return err
	})
	fs.Func("pids-limit", "at most `N` processes and threads", func(s string) (err error) {
		cfg.pids, err = parsePids(s)
		return err
	})
	fs.Func("cpus", "CPU time as a number of `CPUS`, like 0.5", func(s string) (err error) {
		cfg.cpuQuota, err = parseCPUs(s)
		return err
	})
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
// namespaces and its own cgroup, relays signals to it, waits for it and
// returns its exit status. Everything it created is gone when it returns.
func run(args []string) (code int, err error) {
	cfg, err := parseFlags(args)
	if err != nil {
		return 0, err
	}
	cg, err := newCgroup(cgroupRoot, cfg.limits)
	if err != nil {
		return 0, err
	}
	defer func() {
		if rmErr := cg.remove(); rmErr != nil && err == nil {
			err = rmErr
		}
	}()
	// pipe(2): the child waits on it until it is inside its cgroup (see
	// waitForCgroup).
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("pipe: %w", err)
	}
	defer syncW.Close()
	cmd := exec.Command("/proc/self/exe", append([]string{"child"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{syncR} // the child's fd 3
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
	err = cg.start(cmd)
	syncR.Close()
	if err != nil {
		if cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		return 0, fmt.Errorf("start container: %w", err)
	}
	// write(2) one byte: the child is in its cgroup and may go on.
	if _, err := syncW.Write([]byte{1}); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, fmt.Errorf("write sync pipe: %w", err)
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
	if err := waitForCgroup(); err != nil {
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

// limits are the resources a container may use; zero means no limit.
type limits struct {
	memory   int64 // bytes
	pids     int64 // processes and threads
	cpuQuota int64 // microseconds of CPU time per cpuPeriod
}

// cpuPeriod is the CFS period the CPU quota is measured in (100 ms), as docker does.
const cpuPeriod = 100000

// parseSize reads a memory size the way docker does: bytes, or a number with
// a unit k, m, g or t (powers of 1024, any case, optional trailing b).
func parseSize(s string) (int64, error) {
	bad := errors.New("want bytes or a number with a unit, like 64m or 1g")
	num := strings.TrimSuffix(strings.ToLower(s), "b")
	mult := int64(1)
	if n := len(num); n > 0 {
		if i := strings.IndexByte("kmgt", num[n-1]); i >= 0 {
			mult, num = int64(1)<<(10*(i+1)), num[:n-1]
		}
	}
	if num == "" || strings.Trim(num, "0123456789.") != "" || strings.Count(num, ".") > 1 {
		return 0, bad
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v*float64(mult) >= 1<<62 {
		return 0, bad
	}
	return int64(v * float64(mult)), nil
}

// parsePids reads --pids-limit: a positive number of tasks.
func parsePids(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive number of processes")
	}
	return n, nil
}

// parseCPUs turns --cpus into a CFS quota per cpuPeriod: 0.5 CPUs may run
// 50 ms of every 100 ms. The kernel's smallest quota is 1 ms (0.01 CPUs).
func parseCPUs(s string) (int64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0.01 && v <= float64(runtime.NumCPU())) {
		return 0, fmt.Errorf("want a number of CPUs from 0.01 to %d", runtime.NumCPU())
	}
	return int64(v*cpuPeriod + 0.5), nil
}

// cgroupRoot is where cgroupfs is mounted: the v2 hierarchy itself, or on v1
// and hybrid hosts a tmpfs with one v1 hierarchy per controller in it.
const cgroupRoot = "/sys/fs/cgroup"

// v1Controllers are the v1 hierarchies a container gets a cgroup in.
var v1Controllers = []string{"memory", "pids", "cpu"}

// cgroupMode tells how the host mounts cgroups: "v2" (unified), "hybrid"
// (controllers on v1, cgroup2 at root/unified without them) or "v1".
func cgroupMode(root string) (string, error) {
	var st unix.Statfs_t
	// statfs(2) tells which filesystem type is mounted at root.
	if err := unix.Statfs(root, &st); err != nil {
		return "", fmt.Errorf("statfs %s: %w", root, err)
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		return "v2", nil
	case unix.TMPFS_MAGIC:
		// statfs(2) again: a cgroup2 mount at root/unified means hybrid.
		if unix.Statfs(filepath.Join(root, "unified"), &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return "hybrid", nil
		}
		// v1 needs a v1 hierarchy in the tmpfs, such as root/memory.
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if unix.Statfs(filepath.Join(root, e.Name()), &st) == nil && st.Type == unix.CGROUP_SUPER_MAGIC {
				return "v1", nil
			}
		}
	}
	return "", fmt.Errorf("no cgroup hierarchy at %s: mount cgroup2 or v1 hierarchies there (cgroups(7))", root)
}

// setting is one cgroup interface file and the value to write to it.
type setting struct{ file, value string }

// v1Settings lists, in order, the files that set l for the container id on a
// v1 host whose hierarchies are mounted below root.
func v1Settings(root, id string, l limits) []setting {
	var s []setting
	if l.memory > 0 {
		dir := filepath.Join(root, "memory", "minibox", id)
		s = append(s, setting{filepath.Join(dir, "memory.limit_in_bytes"), strconv.FormatInt(l.memory, 10)})
		// memsw caps memory+swap; the same value as the memory limit means
		// no swap, so the limit OOM-kills instead of swapping. The file
		// exists only when the kernel accounts swap; it must be set after
		// memory.limit_in_bytes, which may never exceed it.
		if swap := filepath.Join(dir, "memory.memsw.limit_in_bytes"); exists(swap) {
			s = append(s, setting{swap, strconv.FormatInt(l.memory, 10)})
		}
	}
	if l.pids > 0 {
		s = append(s, setting{filepath.Join(root, "pids", "minibox", id, "pids.max"), strconv.FormatInt(l.pids, 10)})
	}
	if l.cpuQuota > 0 {
		dir := filepath.Join(root, "cpu", "minibox", id)
		s = append(s, setting{filepath.Join(dir, "cpu.cfs_period_us"), strconv.Itoa(cpuPeriod)},
			setting{filepath.Join(dir, "cpu.cfs_quota_us"), strconv.FormatInt(l.cpuQuota, 10)})
	}
	return s
}

// v2Settings lists the files that set l for the v2 cgroup dir.
func v2Settings(dir string, l limits) []setting {
	var s []setting
	if l.memory > 0 {
		s = append(s, setting{filepath.Join(dir, "memory.max"), strconv.FormatInt(l.memory, 10)})
		// No swap, so the limit OOM-kills instead of swapping. The file
		// exists only when the kernel accounts swap.
		if swap := filepath.Join(dir, "memory.swap.max"); exists(swap) {
			s = append(s, setting{swap, "0"})
		}
	}
	if l.pids > 0 {
		s = append(s, setting{filepath.Join(dir, "pids.max"), strconv.FormatInt(l.pids, 10)})
	}
	if l.cpuQuota > 0 {
		s = append(s, setting{filepath.Join(dir, "cpu.max"), fmt.Sprintf("%d %d", l.cpuQuota, cpuPeriod)})
	}
	return s
}

// v2Controllers are the v2 controllers that l needs.
func v2Controllers(l limits) []string {
	var c []string
	if l.memory > 0 {
		c = append(c, "memory")
	}
	if l.pids > 0 {
		c = append(c, "pids")
	}
	if l.cpuQuota > 0 {
		c = append(c, "cpu")
	}
	return c
}

// cgroup is one container's cgroup: its directory in each v1 hierarchy, or
// its single directory on v2.
type cgroup struct {
	v2   bool
	dirs []string
}

// newCgroup removes the leftovers of dead containers, then creates the
// container's cgroup below the minibox parent and writes its limits. The
// name starts with minibox's PID, which tells later runs whether its owner
// is still alive.
func newCgroup(root string, l limits) (*cgroup, error) {
	mode, err := cgroupMode(root)
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%d-%08x", os.Getpid(), rand.Uint32())
	cg := &cgroup{v2: mode == "v2"}
	if cg.v2 {
		cg.dirs = []string{filepath.Join(root, "minibox", id)}
	} else {
		for _, c := range v1Controllers {
			cg.dirs = append(cg.dirs, filepath.Join(root, c, "minibox", id))
		}
	}
	for _, dir := range cg.dirs {
		removeLeftovers(filepath.Dir(dir))
		// mkdir(2) the minibox parent the first time: a cgroup too.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, err
		}
	}
	if cg.v2 {
		if err := enableControllers(root, v2Controllers(l)); err != nil {
			return nil, err
		}
	}
	for _, dir := range cg.dirs {
		// mkdir(2) in cgroupfs creates a cgroup; the kernel fills the new
		// directory with its interface files (cgroups(7)).
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, errors.Join(err, cg.remove())
		}
	}
	settings := v1Settings(root, id, l)
	if cg.v2 {
		settings = v2Settings(cg.dirs[0], l)
	}
	for _, s := range settings {
		if err := writeFile(s.file, s.value); err != nil {
			return nil, errors.Join(err, cg.remove())
		}
	}
	return cg, nil
}

// enableControllers turns controllers on for the children of root and of
// root/minibox: on v2 a cgroup can use only the controllers its parent lists
// in cgroup.subtree_control (cgroups(7), "Cgroups v2 subtree control").
func enableControllers(root string, controllers []string) error {
	for _, dir := range []string{root, filepath.Join(root, "minibox")} {
		// read(2) which controllers dir may hand out, and which it does.
		available, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
		if err != nil {
			return err
		}
		enabled, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
		if err != nil {
			return err
		}
		var add []string
		for _, c := range controllers {
			if !slices.Contains(strings.Fields(string(available)), c) {
				return fmt.Errorf("cgroup v2 controller %s is not available in %s (cgroup.controllers: %q)", c, dir, strings.TrimSpace(string(available)))
			}
			if !slices.Contains(strings.Fields(string(enabled)), c) {
				add = append(add, "+"+c)
			}
		}
		if len(add) > 0 {
			if err := writeFile(filepath.Join(dir, "cgroup.subtree_control"), strings.Join(add, " ")); err != nil {
				return err
			}
		}
	}
	return nil
}

// start starts cmd inside the cgroup. On v2, clone3(2) with
// CLONE_INTO_CGROUP (SysProcAttr.UseCgroupFD) creates the child in it, before
// the child runs a single instruction. v1 has no such flag: the child starts
// in minibox's cgroups, and start moves it; the child waits on the sync pipe
// until then (see waitForCgroup).
func (cg *cgroup) start(cmd *exec.Cmd) error {
	if cg.v2 {
		// open(2) the cgroup's directory: clone3(2) takes it as an fd.
		dir, err := os.Open(cg.dirs[0])
		if err != nil {
			return err
		}
		defer dir.Close()
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(dir.Fd())
		return cmd.Start()
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	for _, dir := range cg.dirs {
		// Writing a PID to cgroup.procs moves that process, with all its
		// threads, into the cgroup (cgroups(7)).
		if err := writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(cmd.Process.Pid)); err != nil {
			return err
		}
	}
	return nil
}

// waitForCgroup blocks the child until run has put it into its cgroup and
// written one byte to the sync pipe (fd 3). On v1 the child starts outside
// the cgroup, and the command must not run a single instruction there.
func waitForCgroup() error {
	pipe := os.NewFile(3, "sync pipe")
	defer pipe.Close() // the command must not inherit it
	// read(2) blocks until run writes; EOF means run gave up.
	if n, err := pipe.Read(make([]byte, 1)); n != 1 {
		return fmt.Errorf("read sync pipe: %v", err)
	}
	return nil
}

// remove deletes the container's cgroup. rmdir(2) is how a cgroup is
// deleted; it fails with EBUSY while a task is inside, which can briefly
// still be the case right after the container's last process was reaped.
func (cg *cgroup) remove() error {
	var errs []error
	for _, dir := range cg.dirs {
		for try := 0; ; try++ {
			err := unix.Rmdir(dir)
			if errors.Is(err, unix.EBUSY) && try < 100 {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("rmdir %s: %w", dir, err))
			}
			break
		}
	}
	return errors.Join(errs...)
}

// removeLeftovers deletes the cgroups in parent whose minibox is gone. A
// SIGKILLed minibox cannot clean up; its container died with it (Pdeathsig),
// leaving an empty cgroup named after the dead minibox's PID. Names of any
// other form belong to someone else and are never touched.
func removeLeftovers(parent string) {
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		owner, suffix, _ := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(owner)
		if err != nil || len(suffix) != 8 || strings.Trim(suffix, "0123456789abcdef") != "" || !e.IsDir() {
			continue
		}
		// kill(2) with signal 0 only checks whether the process exists.
		if unix.Kill(pid, 0) == unix.ESRCH {
			// rmdir(2): best effort, EBUSY if tasks are still inside.
			unix.Rmdir(filepath.Join(parent, e.Name()))
		}
	}
}

// writeFile writes value to an existing cgroup interface file. It never
// creates one: a missing file is an error that names it.
func writeFile(file, value string) error {
	// open(2) without O_CREAT, then write(2): the kernel applies the value
	// on write, and rejects a bad one there (EINVAL).
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(value); err != nil {
		f.Close()
		return fmt.Errorf("write %q to %s: %w", value, file, err)
	}
	return f.Close()
}

func exists(file string) bool {
	_, err := os.Stat(file)
	return err == nil
}
