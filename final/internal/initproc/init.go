package initproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/console"
	"minibox.dev/final/internal/rootfs"
	"minibox.dev/final/internal/security"
)

// codeError is an error with the exit status it deserves.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// Main is `minibox init`. It never returns: it execs the container's
// program or exits.
func Main() {
	// prctl(PR_SET_NAME): "minibox-init" rather than "exe" (we were
	// started as /proc/self/exe) in ps and /proc/PID/comm.
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("minibox-init\x00")[0])), 0, 0, 0)
	sync := os.NewFile(FdSync, "sync")
	prog, argv, env, cfg, err := setup()
	if err != nil {
		code := 125
		var ce *codeError
		if errors.As(err, &ce) {
			code = ce.code
		}
		json.NewEncoder(sync).Encode(Message{Type: "error", Error: err.Error(), Code: code})
		os.Exit(code)
	}
	if err := json.NewEncoder(sync).Encode(Message{Type: "ready"}); err != nil {
		// The parent is gone: do not run a container nobody manages.
		os.Exit(125)
	}
	sync.Close()

	// open(2) of a fifo for writing blocks until a reader opens it: this
	// is where a created container waits for `start`. The path goes
	// through /proc/self/fd because the host path is unreachable since
	// pivot_root.
	fifo, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", FdFifo), os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "minibox: open exec fifo: %v\n", err)
		os.Exit(125)
	}
	// startContainer hooks run now, before the byte that tells `start`
	// the program is on its way: if one fails, start fails.
	if err := startHooks(cfg.Spec); err != nil {
		fmt.Fprintf(os.Stderr, "minibox: %v\n", err)
		os.Exit(125)
	}
	fifo.Write([]byte{0})
	fifo.Close()
	unix.Close(FdFifo)

	if cfg.Init {
		os.Exit(reaper(prog, argv, env, cfg.Spec.Process.Terminal))
	}
	// execve(2) replaces minibox with the user's program: same PID (1 in
	// its namespace), same namespaces, cgroup, credentials and filter.
	err = unix.Exec(prog, argv, env)
	fmt.Fprintf(os.Stderr, "minibox: exec %s: %v\n", argv[0], err)
	os.Exit(execCode(err))
}

func execCode(err error) int {
	if errors.Is(err, unix.ENOENT) {
		return 127
	}
	return 126
}

// setup performs steps 1-7 of the package doc and returns what to exec.
func setup() (prog string, argv, env []string, cfg Config, err error) {
	// Descriptors 3-6 must not reach the user's program.
	for fd := FdConfig; fd <= FdConsole; fd++ {
		unix.CloseOnExec(fd)
	}
	// 1. The config, which the parent sends as soon as we run (the
	// cgroup comes later: see enterCgroup).
	cf := os.NewFile(FdConfig, "config")
	defer cf.Close()
	// One decoder for the pipe: the parent's hook reply (hooks.go)
	// follows the config on it.
	dec := json.NewDecoder(cf)
	if err = dec.Decode(&cfg); err != nil {
		return "", nil, nil, cfg, fmt.Errorf("read config from parent: %w", err)
	}
	s := cfg.Spec
	if s == nil || s.Process == nil || s.Root == nil || s.Linux == nil {
		return "", nil, nil, cfg, fmt.Errorf("config without process, root or linux section")
	}

	// The parent-death signal os/exec set does not survive execve(2)
	// when the exec raised our capabilities (we are root of a new user
	// namespace): set it again. Had the parent died before this, the
	// config read above would have failed.
	if cfg.Pdeathsig {
		if err = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
			return "", nil, nil, cfg, fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", err)
		}
	}

	// 3. setns(2) into namespaces given by path (net, ipc, uts, cgroup:
	// the kinds a thread may join; the others need nsenter).
	for _, n := range cfg.Join {
		if err = join(n); err != nil {
			return "", nil, nil, cfg, err
		}
	}
	if cfg.NewNet {
		if err = loopbackUp(); err != nil {
			return "", nil, nil, cfg, err
		}
	}
	if cfg.NewUTS && s.Hostname != "" {
		// sethostname(2) changes the name in our UTS namespace only.
		if err = unix.Sethostname([]byte(s.Hostname)); err != nil {
			return "", nil, nil, cfg, fmt.Errorf("sethostname %q: %w", s.Hostname, err)
		}
	}
	if cfg.NewUTS && s.Domainname != "" {
		if err = unix.Setdomainname([]byte(s.Domainname)); err != nil {
			return "", nil, nil, cfg, fmt.Errorf("setdomainname %q: %w", s.Domainname, err)
		}
	}
	if err = applySysctl(s.Linux.Sysctl); err != nil {
		return "", nil, nil, cfg, err
	}

	// 4. The filesystem, ending inside the new root.
	rc := rootfs.Config{
		Spec: s, Rootfs: cfg.Rootfs, Overlay: cfg.Overlay,
		UserNS: hasNS(s, specs.UserNamespace), NewNet: cfg.NewNet,
		CgroupV1: cfg.CgroupV1, CgroupV2: cfg.CgroupV2, Unified: cfg.CgroupUnified,
		// The OCI hooks of create run just before pivot_root (hooks.go).
		BeforePivot: func() error { return beforePivot(s, dec) },
		// The mounts before it overlap with the parent's moving us into
		// the cgroup, which can take milliseconds (see enterCgroup).
		BeforeCgroup: func() error { return enterCgroup(cfg, dec) },
	}
	if err = rootfs.Setup(rc); err != nil {
		return "", nil, nil, cfg, err
	}

	// 5. A terminal: a pty pair from the container's own devpts. The
	// slave becomes stdio and the controlling terminal, also /dev/console;
	// the master goes to whoever drives the container.
	if s.Process.Terminal {
		if err = terminal(os.NewFile(FdConsole, "console-socket"), s.Process.ConsoleSize, true); err != nil {
			return "", nil, nil, cfg, err
		}
	}

	// 6. Working directory, limits, the program.
	if err = os.MkdirAll(s.Process.Cwd, 0o755); err != nil && !errors.Is(err, unix.EROFS) {
		return "", nil, nil, cfg, fmt.Errorf("create cwd %s: %w", s.Process.Cwd, err)
	}
	// chdir(2) into process.cwd, now a path inside the new root.
	if err = unix.Chdir(s.Process.Cwd); err != nil {
		return "", nil, nil, cfg, fmt.Errorf("chdir to cwd %s: %w", s.Process.Cwd, err)
	}
	if err = applyOOMScoreAdj(s.Process.OOMScoreAdj); err != nil {
		return "", nil, nil, cfg, err
	}
	if err = security.SetRlimits(s.Process.Rlimits); err != nil {
		return "", nil, nil, cfg, err
	}
	argv, env = s.Process.Args, s.Process.Env
	if len(argv) == 0 {
		return "", nil, nil, cfg, fmt.Errorf("process.args is empty")
	}
	if prog, err = lookPath(argv[0], env); err != nil {
		return "", nil, nil, cfg, err
	}

	// 7. Privileges (privileges.go), shared with exec'd processes.
	if err = applyPrivileges(s.Process, s.Linux.Seccomp); err != nil {
		return "", nil, nil, cfg, err
	}
	return prog, argv, env, cfg, nil
}

// enterCgroup waits until the parent reports that this process is in
// its cgroup, then unshares the cgroup namespace. It runs just before the
// container's cgroup filesystem is mounted (or before pivot_root without
// one), not first thing: writing a PID to cgroup.procs takes the kernel's
// cgroup_threadgroup_rwsem for writing, which can wait for an RCU grace
// period, and init's first mounts go on meanwhile. Nothing of the
// container's program runs before this point.
func enterCgroup(cfg Config, dec *json.Decoder) error {
	var m Message
	if err := dec.Decode(&m); err != nil || m.Type != "cgroup" {
		return fmt.Errorf("wait for the parent to place init in its cgroup: %v (%q)", err, m.Type)
	}
	// unshare(2) CLONE_NEWCGROUP: the cgroup we are in now becomes the
	// root of the container's cgroup view (/proc/self/cgroup shows /).
	if cfg.UnshareCgroup {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	return nil
}

func hasNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, n := range s.Linux.Namespaces {
		if n.Type == t {
			return true
		}
	}
	return false
}

var nsFlags = map[specs.LinuxNamespaceType]int{
	specs.NetworkNamespace: unix.CLONE_NEWNET, specs.IPCNamespace: unix.CLONE_NEWIPC,
	specs.UTSNamespace: unix.CLONE_NEWUTS, specs.CgroupNamespace: unix.CLONE_NEWCGROUP,
}

// join enters an existing namespace with setns(2).
func join(n specs.LinuxNamespace) error {
	fd, err := unix.Open(n.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s namespace %s: %w", n.Type, n.Path, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, nsFlags[n.Type]); err != nil {
		return fmt.Errorf("setns %s namespace %s: %w", n.Type, n.Path, err)
	}
	return nil
}

// loopbackUp sets IFF_UP on lo with the SIOCGIFFLAGS/SIOCSIFFLAGS ioctls
// (netdevice(7)): a new network namespace has only lo, and it is down.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket for lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

// terminal makes a pty slave from the container's devpts our stdio and
// controlling terminal, and sends the master over sock to whoever drives
// the container. With bindConsole (init's terminal, not an exec's) the slave
// is also bound on /dev/console.
func terminal(sock *os.File, size *specs.Box, bindConsole bool) error {
	master, slavePath, err := console.NewPty("/dev/ptmx")
	if err != nil {
		return err
	}
	defer master.Close()
	slave, err := console.OpenSlave(slavePath)
	if err != nil {
		return err
	}
	defer slave.Close()
	if size != nil {
		if err := console.SetSize(master, *size); err != nil {
			return err
		}
	}
	// /dev/console is the slave too, as runc does: programs that write
	// to the console write to the container's terminal.
	if bindConsole {
		if f, err := os.OpenFile("/dev/console", os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			f.Close()
			// mount(2) MS_BIND puts the slave's node at /dev/console.
			if err := unix.Mount(slavePath, "/dev/console", "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("bind %s on /dev/console: %w", slavePath, err)
			}
		}
	}
	if err := console.SendFd(sock, master); err != nil {
		return err
	}
	sock.Close()
	return console.MakeControlling(slave)
}

// lookPath finds the program in the container (we are inside the new
// root now) using the process's PATH, as execvp(3) would.
func lookPath(file string, env []string) (string, error) {
	notFound := func(err error) error {
		return &codeError{127, fmt.Errorf("exec: %q: %w", file, err)}
	}
	check := func(p string) error {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return unix.EACCES
		}
		return nil
	}
	if strings.Contains(file, "/") {
		err := check(file)
		if errors.Is(err, unix.EACCES) {
			return "", &codeError{126, fmt.Errorf("exec: %q: permission denied (not an executable file)", file)}
		}
		if err != nil {
			return "", notFound(errors.Unwrap(err))
		}
		return file, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	denied := false
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		switch err := check(p); {
		case err == nil:
			return p, nil
		case errors.Is(err, unix.EACCES):
			denied = true
		}
	}
	if denied {
		return "", &codeError{126, fmt.Errorf("exec: %q: permission denied", file)}
	}
	return "", notFound(exec.ErrNotFound)
}

// switchUser sets groups, gid and uid. PR_SET_KEEPCAPS first: setuid(2)
// away from 0 would otherwise clear the permitted set that capset must
// still shape. The parent-death signal is reset by a credential change
// (prctl(2)), so it is set again.
func switchUser(u specs.User) error {
	// prctl(PR_GET_PDEATHSIG): remember the signal, if any, to set it
	// again after the credentials change clears it.
	var pdeath int
	unix.Prctl(unix.PR_GET_PDEATHSIG, uintptr(unsafe.Pointer(&pdeath)), 0, 0, 0)
	if u.UID != 0 {
		if err := security.KeepCaps(); err != nil {
			return err
		}
	}
	groups := make([]int, len(u.AdditionalGids))
	for i, g := range u.AdditionalGids {
		groups[i] = int(g)
	}
	// setgroups(2), setgid(2), setuid(2): Go applies them to every
	// thread of the process.
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups %v: %w", groups, err)
	}
	if err := unix.Setgid(int(u.GID)); err != nil {
		return fmt.Errorf("setgid %d: %w", u.GID, err)
	}
	if err := unix.Setuid(int(u.UID)); err != nil {
		return fmt.Errorf("setuid %d: %w", u.UID, err)
	}
	if pdeath != 0 {
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(pdeath), 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", err)
		}
	}
	if u.Umask != nil {
		unix.Umask(int(*u.Umask))
	}
	return nil
}

// reaper is PID 1 with --init: it starts the program as its child,
// forwards every catchable signal to it, reaps every zombie that gets
// reparented to PID 1, and exits with the program's status.
//
// With a terminal, the program gets a process group of its own and the
// terminal's foreground (setpgid(2), then tcsetpgrp(3), which is the
// TIOCSPGRP ioctl: Go's Foreground does both in the child before exec).
// Keys such as Ctrl-C make the pty's line discipline signal the
// foreground process group: were we in it, the program would get the
// signal from the terminal and again from us.
func reaper(prog string, argv, env []string, terminal bool) int {
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	var sys *syscall.SysProcAttr
	if terminal {
		// Ctty 0: our stdin is the pty's slave (terminal()).
		sys = &syscall.SysProcAttr{Foreground: true, Ctty: 0}
	}
	// syscall.ForkExec rather than os/exec: os/exec asks for a pidfd,
	// which takes clone3(2), and the default seccomp profile refuses
	// clone3 (ENOSYS) because a filter cannot read its flags.
	child, err := syscall.ForkExec(prog, argv, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   sys,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "minibox: exec %s: %v\n", argv[0], err)
		return execCode(err)
	}
	for sig := range sigs {
		if sig == unix.SIGCHLD {
			for {
				var ws unix.WaitStatus
				// wait4(2) with -1: any child, including orphans
				// reparented to us; WNOHANG: do not block.
				pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
				if err != nil || pid <= 0 {
					break
				}
				if pid == child {
					if ws.Signaled() {
						return 128 + int(ws.Signal())
					}
					return ws.ExitStatus()
				}
			}
			continue
		}
		if s, ok := sig.(syscall.Signal); ok && s != unix.SIGURG {
			unix.Kill(child, s)
		}
	}
	return 125
}
