package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/cgroups"
	v1 "minibox.dev/final/internal/cgroups/v1"
	"minibox.dev/final/internal/initproc"
	"minibox.dev/final/internal/namespaces"
	"minibox.dev/final/internal/rootfs"
	"minibox.dev/final/internal/spec"
)

// Options are the inputs of Create.
type Options struct {
	Root   string      // state root (--root); DefaultRoot when empty
	ID     string      // container ID, unique in Root
	Bundle string      // directory a relative root.path is resolved against
	Spec   *specs.Spec // the configuration (spec.FromRun or config.json)
	// Stdin, Stdout, Stderr become the container process's stdio
	// (nil: /dev/null). With process.terminal the pty replaces them.
	Stdin, Stdout, Stderr *os.File
	// ConsoleSocket receives the pty master (SCM_RIGHTS) when
	// process.terminal is set: a connected unix socket.
	ConsoleSocket *os.File
	// Foreground keeps the container tied to this process: init gets
	// SIGKILL if we die (PR_SET_PDEATHSIG), and AutoRemove lets the next
	// Create clean up after us. `minibox run` sets it; `create` does not.
	Foreground bool
}

// Container is one container: its persisted State and, in the process
// that created it, the init process handle.
type Container struct {
	State
	root string
	dir  string
	cmd  *exec.Cmd
	cg   cgroups.Manager
}

// Error carries the exit status an error deserves (docker's convention):
// 127 the command was not found, 126 not executable, 125 anything else.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Create sets the container up to the "created" state. On any error
// everything made so far is removed again.
func Create(o Options) (c *Container, err error) {
	if o.Root == "" {
		o.Root = DefaultRoot
	}
	if err := ValidID(o.ID); err != nil {
		return nil, err
	}
	s := o.Spec
	if s == nil || s.Root == nil || s.Process == nil || s.Linux == nil {
		return nil, fmt.Errorf("config needs root, process and linux sections")
	}
	plan, err := namespaces.FromSpec(s.Linux.Namespaces)
	if err != nil {
		return nil, err
	}
	// The rootfs is checked before anything is created: the commonest
	// mistake deserves a clear line and nothing to clean up.
	rootPath := s.Root.Path
	if !filepath.IsAbs(rootPath) {
		rootPath = filepath.Join(o.Bundle, rootPath)
	}
	if rootPath, err = filepath.Abs(rootPath); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(rootPath); err != nil {
		return nil, fmt.Errorf("rootfs %s: %w", rootPath, errors.Unwrap(err))
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("rootfs %s: not a directory", rootPath)
	}
	if err := os.MkdirAll(o.Root, 0o711); err != nil {
		return nil, fmt.Errorf("create state root %s: %w", o.Root, err)
	}
	sweep(o.Root)

	dir := stateDir(o.Root, o.ID)
	// mkdir(2) is atomic: of two creates with the same ID one fails here.
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %s already exists", o.ID)
		}
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	c = &Container{root: o.Root, dir: dir}
	c.Version = specs.Version
	c.ID = o.ID
	c.Bundle = o.Bundle
	c.Annotations = s.Annotations
	c.Created = time.Now().UTC()
	c.Spec = s
	c.Rootfs = rootPath
	c.AutoRemove = o.Foreground
	c.Owner = os.Getpid()
	c.OwnerStart, _ = startTime(c.Owner)
	c.CgroupPath = s.Linux.CgroupsPath
	if c.CgroupPath == "" {
		c.CgroupPath = cgroups.DefaultPath(o.ID)
	}
	defer func() {
		if err != nil {
			c.Delete(true)
			c = nil
		}
	}()
	if s.Annotations[spec.AnnotationOverlay] == "true" {
		c.Overlay = &rootfs.Overlay{
			Upper:  filepath.Join(dir, "upper"),
			Work:   filepath.Join(dir, "work"),
			Merged: filepath.Join(dir, "merged"),
		}
	}
	// Saved before anything else is made: from here on, a minibox killed
	// at any point leaves a state file that says what to clean up.
	if err := c.saveCreating(); err != nil {
		return c, err
	}

	rootUID, ok := namespaces.HostID(s.Linux.UIDMappings, 0)
	rootGID, ok2 := namespaces.HostID(s.Linux.GIDMappings, 0)
	if !ok || !ok2 {
		return c, fmt.Errorf("linux.uidMappings/gidMappings: container root (0) is not mapped")
	}
	if c.Overlay != nil {
		for _, d := range []string{c.Overlay.Upper, c.Overlay.Work, c.Overlay.Merged} {
			if err := os.Mkdir(d, 0o755); err != nil {
				return c, fmt.Errorf("create overlay dir: %w", err)
			}
			// In a user namespace the container's root mounts the
			// overlay and copies files up: it must own these.
			if err := os.Chown(d, int(rootUID), int(rootGID)); err != nil {
				return c, fmt.Errorf("chown overlay dir: %w", err)
			}
		}
		if plan.Cloneflags&unix.CLONE_NEWUSER != 0 {
			// The rootfs's directories, owned as the namespace sees
			// them, so that its root can create files in them.
			uid := func(id uint32) (uint32, bool) { return namespaces.HostID(s.Linux.UIDMappings, id) }
			gid := func(id uint32) (uint32, bool) { return namespaces.HostID(s.Linux.GIDMappings, id) }
			if err := rootfs.ShiftDirs(rootPath, c.Overlay.Upper, uid, gid); err != nil {
				return c, fmt.Errorf("prepare the writable layer for the user namespace: %w", err)
			}
		}
	}

	fifo := filepath.Join(dir, "exec.fifo")
	// mkfifo(3): init blocks opening it until Start opens the other end.
	// 0622: a non-root container user may open it for writing.
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		return c, fmt.Errorf("mkfifo %s: %w", fifo, err)
	}
	if err := os.Chmod(fifo, 0o622); err != nil {
		return c, err
	}
	r := resources(s)
	cfg, err := c.initConfig(plan, r)
	if err != nil {
		return c, err
	}
	// The first JSON encoding of a specs.Spec builds encoding/json's
	// per-type tables for the whole spec (about a millisecond): it runs
	// on another CPU while init starts and the cgroup is made.
	encoded := make(chan encodeResult, 1)
	go func() {
		b, err := json.Marshal(&cfg)
		encoded <- encodeResult{b, err}
	}()
	if err := c.startInit(o, plan, fifo, r, encoded); err != nil {
		return c, err
	}
	return c, nil
}

type encodeResult struct {
	data []byte
	err  error
}

// initConfig is what init is sent.
func (c *Container) initConfig(plan namespaces.Plan, r *specs.LinuxResources) (initproc.Config, error) {
	s := c.Spec
	// init does not need the resources (the cgroup is the parent's
	// business): a copy without them is less to encode and decode.
	sc, lc := *s, *s.Linux
	lc.Resources = nil
	sc.Linux = &lc
	cfg := initproc.Config{
		Spec: &sc, Rootfs: c.Rootfs, Overlay: c.Overlay,
		UnshareCgroup: plan.UnshareCgroup, Join: plan.Join,
		NewNet:    plan.Cloneflags&unix.CLONE_NEWNET != 0,
		NewUTS:    plan.Cloneflags&unix.CLONE_NEWUTS != 0,
		Init:      s.Annotations[spec.AnnotationInit] == "true",
		Pdeathsig: c.AutoRemove,
	}
	var err error
	switch cgroups.Mode() {
	case cgroups.Unified:
		cfg.CgroupV2, cfg.CgroupUnified = true, true
	case cgroups.Hybrid, cgroups.Legacy:
		// Only the hierarchies init joins are mounted in the container.
		cfg.CgroupV1, err = v1.Hierarchies(v1.Needed(r))
	}
	return cfg, err
}

// resources is the spec's resources with the devices every container
// needs appended (runc does the same): the nodes init creates in /dev and
// the pty devices, whatever a config.json says. A default rule already
// in force (the same rule after the last deny) is not repeated:
// `minibox run`'s spec has them all.
func resources(s *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if s.Linux.Resources != nil {
		r = *s.Linux.Resources
	}
	devs := append([]specs.LinuxDeviceCgroup(nil), r.Devices...)
	lastDeny := -1
	for i, d := range devs {
		if !d.Allow {
			lastDeny = i
		}
	}
	for _, d := range spec.DockerDevices()[3:] {
		if !containsRule(devs[lastDeny+1:], d) {
			devs = append(devs, d)
		}
	}
	r.Devices = devs
	return &r
}

func containsRule(list []specs.LinuxDeviceCgroup, d specs.LinuxDeviceCgroup) bool {
	eq := func(a, b *int64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	for _, x := range list {
		if x.Allow == d.Allow && x.Type == d.Type && x.Access == d.Access && eq(x.Major, d.Major) && eq(x.Minor, d.Minor) {
			return true
		}
	}
	return false
}

// startInit re-execs minibox as init in the new namespaces, moves it into
// the cgroup, sends the config and waits for init's report.
func (c *Container) startInit(o Options, plan namespaces.Plan, fifo string, r *specs.LinuxResources, encoded <-chan encodeResult) error {
	s := o.Spec
	configR, configW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer configR.Close()
	defer configW.Close()
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer syncR.Close()
	defer syncW.Close()
	// O_PATH: a handle on the fifo that does not open it (opening would
	// block); init reopens it through /proc/self/fd.
	fifoFd, err := unix.Open(fifo, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", fifo, err)
	}
	fifoPath := os.NewFile(uintptr(fifoFd), fifo)
	defer fifoPath.Close()

	cmd := exec.Command("/proc/self/exe", "init")
	// init needs no environment, and one P: it runs one goroutine locked
	// to its thread, and a single P spares the Go runtime starting idle
	// threads each time that goroutine blocks in a system call.
	cmd.Env = []string{"GOMAXPROCS=1"}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	cmd.ExtraFiles = []*os.File{configR, syncW, fifoPath}
	if s.Process.Terminal {
		if o.ConsoleSocket == nil {
			return fmt.Errorf("process.terminal needs a console socket")
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, o.ConsoleSocket)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// clone(2) flags: init starts inside its new namespaces.
		Cloneflags:  plan.Cloneflags,
		UidMappings: namespaces.IDMaps(s.Linux.UIDMappings),
		GidMappings: namespaces.IDMaps(s.Linux.GIDMappings),
		// We are root on the host: the gid map may allow setgroups(2).
		GidMappingsEnableSetgroups: true,
	}
	if plan.Cloneflags&unix.CLONE_NEWUSER != 0 {
		// init starts as the host's root, which the new user namespace
		// does not map: it would run as "nobody" and execve(2) would
		// drop its capabilities. setuid(0)/setgid(0) inside the
		// namespace (done by the child before exec, once the maps are
		// written) makes it the namespace's root: the host's uid 100000.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	if o.Foreground {
		// If minibox dies, the kernel kills init, and with it (PID 1 of
		// its namespace) every process of the container.
		cmd.SysProcAttr.Pdeathsig = unix.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	c.cmd = cmd
	c.Pid = cmd.Process.Pid
	c.InitStartTime, _ = startTime(c.Pid)
	configR.Close()
	syncW.Close()

	// Init reports "ready" or "error" on the sync pipe; before that,
	// "hooks" when it has reached the point of the create hooks (hooks.go).
	dec := json.NewDecoder(syncR)
	// initFailed is for errors the parent meets before init's report.
	// Init runs its setup at the same time and may have failed first: it
	// then wrote its error and exited, and the parent's next step fails
	// only because of that (EPIPE sending a message to a dead init, ESRCH
	// moving it into the cgroup). Init's error is the one that explains
	// it. Once init is reaped (killed first if it is still waiting for us)
	// no one holds the pipe's write end, so the read cannot block: it
	// returns the error init left in the pipe, or EOF.
	initFailed := func(err error) error {
		c.waitQuiet()
		var m initproc.Message
		if dec.Decode(&m) == nil && m.Type == "error" {
			return initError(m)
		}
		return err
	}

	// The config first: init starts its setup at once, and waits for the
	// cgroup only where it must (initproc's enterCgroup).
	res := <-encoded
	if res.err != nil {
		return initFailed(fmt.Errorf("encode init's config: %w", res.err))
	}
	if _, err := configW.Write(append(res.data, '\n')); err != nil {
		return initFailed(fmt.Errorf("send config to init: %w", err))
	}
	// The cgroup, with its limits; Apply moves init in before anything of
	// the container's program can run, so all of it is limited.
	if c.cg, err = cgroups.New(c.CgroupPath, r); err != nil {
		return initFailed(err)
	}
	if err := c.cg.Set(r); err != nil {
		return initFailed(err)
	}
	if err := c.cg.Apply(c.Pid); err != nil {
		return initFailed(err)
	}
	if err := json.NewEncoder(configW).Encode(initproc.Message{Type: "cgroup"}); err != nil {
		return initFailed(fmt.Errorf("tell init it is in its cgroup: %w", err))
	}

	var msg initproc.Message
	for {
		if err := dec.Decode(&msg); err != nil {
			return fmt.Errorf("init exited during setup (%v)", c.waitQuiet())
		}
		if msg.Type != "hooks" {
			break
		}
		if err := c.runtimeHooks(configW); err != nil {
			return initFailed(fmt.Errorf("answer init's hooks: %w", err))
		}
	}
	configW.Close()
	if msg.Type != "ready" {
		c.waitQuiet()
		return initError(msg)
	}
	return c.save()
}

// initError is the error init reported, with its exit status.
func initError(m initproc.Message) error {
	code := m.Code
	if code == 0 {
		code = 125
	}
	return &Error{Code: code, Err: errors.New(m.Error)}
}

// waitQuiet kills init if needed and reaps it, for error paths.
func (c *Container) waitQuiet() error {
	if c.cmd == nil {
		return nil
	}
	c.cmd.Process.Kill()
	err := c.cmd.Wait()
	c.cmd = nil
	return err
}

// Start lets init exec the user's program: opening the fifo for reading
// unblocks init's open for writing. If init dies instead, its pidfd says
// so and Start fails rather than blocking for ever.
func (c *Container) Start() error {
	if st := c.Status(); st != specs.StateCreated {
		return fmt.Errorf("container %s is %s, not created", c.ID, st)
	}
	fifo := filepath.Join(c.dir, "exec.fifo")
	pidfd, err := pidfdOpen(c.Pid)
	if err != nil {
		return fmt.Errorf("container %s: init is gone: %w", c.ID, err)
	}
	defer unix.Close(pidfd)
	// O_NONBLOCK: the open returns at once, and its existence is what
	// releases init's blocked open for writing. Then one poll(2) waits for
	// either the byte init writes or init's exit (its pidfd turns
	// readable). A fifo that never had a writer does not report POLLHUP.
	fd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("start %s: open %s: %w", c.ID, fifo, err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != unix.EINTR {
			break
		}
	}
	// Read even when init has exited: a short-lived program may have
	// passed the fifo (and written its byte) before exiting.
	if n, _ := unix.Read(fd, make([]byte, 1)); n != 1 {
		return fmt.Errorf("start %s: init exited before start", c.ID)
	}
	os.Remove(fifo)
	return nil
}

// Wait waits for the container's process and returns its exit status as
// a shell reports it (128+N when killed by signal N). Only the process
// that created the container can wait for it.
func (c *Container) Wait() (int, error) {
	if c.cmd == nil {
		return -1, fmt.Errorf("container %s: not a child of this process", c.ID)
	}
	err := c.cmd.Wait()
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	c.cmd = nil
	if !ok {
		return -1, err
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// Signal sends sig to the container's init process.
func (c *Container) Signal(sig unix.Signal) error {
	if c.Pid == 0 || !alive(c.Pid, c.InitStartTime) {
		return fmt.Errorf("container %s is not running", c.ID)
	}
	// pidfd_send_signal(2) through a pidfd cannot hit a reused PID.
	fd, err := pidfdOpen(c.Pid)
	if err != nil {
		return fmt.Errorf("signal %s: %w", c.ID, err)
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		return fmt.Errorf("signal %s: %w", c.ID, err)
	}
	return nil
}

// Delete removes the container: its process (only with force if it is
// running), cgroup, writable layer and state directory. Mounts need no
// cleanup: they exist only in the container's mount namespace, which the
// kernel drops with its last process.
func (c *Container) Delete(force bool) error {
	st := c.Status()
	if st == specs.StateRunning && !force {
		return fmt.Errorf("container %s is running: stop it first or use --force", c.ID)
	}
	if c.Pid != 0 && alive(c.Pid, c.InitStartTime) {
		if err := c.kill(); err != nil {
			return err
		}
	}
	var errs []error
	if cg := c.cg; cg != nil || c.CgroupPath != "" {
		if cg == nil {
			cg, _ = cgroups.Load(c.CgroupPath)
		}
		if cg != nil {
			// Processes that escaped init's death (none should: killing
			// PID 1 kills its namespace) are killed before rmdir.
			if pids, _ := cg.Pids(); len(pids) > 0 {
				for _, p := range pids {
					// kill(2): these PIDs are listed by the cgroup
					// itself, so they are the container's.
					unix.Kill(p, unix.SIGKILL)
				}
			}
			if err := cg.Destroy(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove state dir: %w", err))
	}
	return errors.Join(errs...)
}

// kill sends SIGKILL to init and waits until it is gone: reaped by us if
// we are its parent, else watched through a pidfd.
func (c *Container) kill() error {
	if c.cmd != nil {
		c.waitQuiet()
		return nil
	}
	fd, err := pidfdOpen(c.Pid)
	if err != nil {
		return nil // already gone
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill %s: %w", c.ID, err)
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, 10000); err != unix.EINTR {
			break
		}
	}
	return nil
}
