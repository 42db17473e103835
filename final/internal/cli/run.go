package cli

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/console"
	"minibox.dev/final/internal/container"
	"minibox.dev/final/internal/spec"
)

// runCommand is `run`, in two forms sharing one name:
//
//	minibox run [FLAGS] [--rootfs DIR] CMD [ARG...]   docker-like (this file)
//	minibox run [--bundle DIR] [--detach] ... ID       runc's (runBundle)
//
// The OCI form is chosen when a runc-only flag is present.
func runCommand() *Command {
	return &Command{
		Name:    "run",
		Args:    "[FLAGS] CMD [ARG...]  |  run --bundle DIR [--detach] ID",
		Summary: "run a command in a new container (docker-like), or a bundle (runc-like)",
		Run: func(g *Global, args []string) error {
			if isBundleRun(args) {
				return runBundle(g, args)
			}
			return runDocker(g, args)
		},
	}
}

// bundleFlags are flags only runc's `run` has.
var bundleFlags = []string{"bundle", "b", "detach", "d", "pid-file", "console-socket",
	"no-pivot", "no-new-keyring", "preserve-fds", "keep", "no-subreaper"}

func isBundleRun(args []string) bool {
	for _, a := range args {
		if a == "--" || !strings.HasPrefix(a, "-") {
			return false // flags come first in both forms
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		for _, f := range bundleFlags {
			if name == f && !(f == "d" && strings.HasPrefix(a, "--")) {
				return true
			}
		}
	}
	return false
}

const runUsage = `usage: minibox run [FLAGS] CMD [ARG...]

Run CMD in a new container, like docker run: every namespace (pid, mount,
uts, ipc, net, cgroup), an overlay over the rootfs, /proc, a minimal /dev,
read-only /sys, docker's capabilities, seccomp profile and masked paths,
and a cgroup under /minibox.

minibox always removes the container at exit: its cgroup, its state and
its writable layer (what docker does with --rm). There is no mode that
keeps them; --rm is accepted so that docker command lines work. For a
container that outlives its process, use create and start.

Flags:
      --rootfs DIR          root filesystem (default: the workspace's rootfs/)
      --name NAME           container name (default: a random ID)
  -e, --env KEY=VAL         set an environment variable (KEY alone: copy the host's)
  -w, --workdir DIR         working directory inside the container
  -u, --user UID[:GID]      user (number or name from the rootfs's /etc/passwd)
  -h, --hostname NAME       hostname (default minibox)
      --read-only           no writable layer: the rootfs is mounted read-only
  -m, --memory SIZE         memory limit, e.g. 32m (OOM kill: exit 137)
      --memory-swap SIZE    memory+swap limit (-1: unlimited swap)
      --cpus N              CPU time, e.g. 0.5 (CFS quota)
  -c, --cpu-shares N        relative CPU weight (v1 shares; v2 weight derived)
      --cpuset-cpus LIST    CPUs to run on, e.g. 0-1
      --pids-limit N        maximum number of processes
      --ulimit NAME=S[:H]   resource limit, e.g. nofile=1024:2048 (never above
                            the current hard limit without CAP_SYS_RESOURCE)
      --network none|host   none (default): own network namespace, loopback up
  -t, --tty                 allocate a pseudo-terminal
  -i, --interactive         keep stdin attached
      --userns              a user namespace: container ids 0-65535 are host
                            ids 100000-165535. The rootfs is shared and never
                            chowned: its directories are remade, owned by the
                            container's root, in the writable layer, but its
                            files show as nobody inside and cannot be changed
                            in place (nor can 0700 directories such as /root)
      --init                run a reaping, signal-forwarding init as PID 1
                            (default: CMD is PID 1, as in docker)
      --rm                  accepted for docker compatibility; changes nothing:
                            the container is always removed at exit (above)
      --help                this help

Short flags combine (-it); long ones take --name=VALUE or --name VALUE,
and one dash works too (-memory 32m), as in the steps.

Exit status: CMD's own, 128+N if it was killed by signal N (137: OOM or
SIGKILL), 125 if minibox failed, 126 if CMD is not executable, 127 if it
was not found.
`

// runFlags are the docker-like flags, parsed by hand: docker users write
// -it, -e A=1, --memory=32m and --memory 32m, which Go's flag package
// does not all accept.
type runFlags struct {
	opts     spec.RunOptions
	name     string
	user     string
	rootfs   string
	help     bool
	envNames []string
}

// flag descriptions: name(s) and whether a value follows.
type flagDef struct {
	long, short string
	value       bool
	set         func(f *runFlags, v string) error
}

func runFlagDefs() []flagDef {
	bytesFlag := func(name string, dst func(*runFlags) *int64, allowMinus1 bool) func(_ *runFlags, _ string) error {
		return func(f *runFlags, v string) error {
			if allowMinus1 && v == "-1" {
				*dst(f) = -1
				return nil
			}
			n, err := spec.ParseBytes(v)
			if err != nil {
				return fmt.Errorf("--%s: %w", name, err)
			}
			if n == 0 {
				return fmt.Errorf("--%s: %q must be more than 0", name, v)
			}
			*dst(f) = n
			return nil
		}
	}
	return []flagDef{
		{"rootfs", "", true, func(f *runFlags, v string) error { f.rootfs = v; return nil }},
		{"name", "", true, func(f *runFlags, v string) error {
			if err := container.ValidID(v); err != nil {
				return fmt.Errorf("--name: %w", err)
			}
			f.name = v
			return nil
		}},
		{"env", "e", true, func(f *runFlags, v string) error {
			k, _, hasVal := strings.Cut(v, "=")
			if k == "" || strings.ContainsAny(k, " \t") {
				return fmt.Errorf("--env %q: want KEY=VALUE", v)
			}
			if !hasVal {
				f.envNames = append(f.envNames, k)
				return nil
			}
			f.opts.Env = append(f.opts.Env, v)
			return nil
		}},
		{"workdir", "w", true, func(f *runFlags, v string) error {
			if !filepath.IsAbs(v) {
				return fmt.Errorf("--workdir %q: must be an absolute path", v)
			}
			f.opts.Workdir = v
			return nil
		}},
		{"user", "u", true, func(f *runFlags, v string) error {
			if v == "" {
				return fmt.Errorf("--user: empty")
			}
			f.user = v
			return nil
		}},
		{"hostname", "h", true, func(f *runFlags, v string) error {
			if v == "" || len(v) > 64 || strings.ContainsAny(v, " /\t") {
				return fmt.Errorf("--hostname %q: want 1 to 64 characters without spaces or '/'", v)
			}
			f.opts.Hostname = v
			return nil
		}},
		{"read-only", "", false, func(f *runFlags, _ string) error { f.opts.ReadOnly = true; return nil }},
		{"memory", "m", true, bytesFlag("memory", func(f *runFlags) *int64 { return &f.opts.Memory }, false)},
		{"memory-swap", "", true, bytesFlag("memory-swap", func(f *runFlags) *int64 { return &f.opts.MemorySwap }, true)},
		{"cpus", "", true, func(f *runFlags, v string) error {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("--cpus %q: want a positive number such as 0.5", v)
			}
			f.opts.CPUs = n
			return nil
		}},
		{"cpu-shares", "c", true, func(f *runFlags, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n < 2 || n > 262144 {
				return fmt.Errorf("--cpu-shares %q: want a number from 2 to 262144", v)
			}
			f.opts.CPUShares = n
			return nil
		}},
		{"cpuset-cpus", "", true, func(f *runFlags, v string) error { f.opts.CpusetCPUs = v; return nil }},
		{"pids-limit", "", true, func(f *runFlags, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("--pids-limit %q: want a positive number", v)
			}
			f.opts.PidsLimit = n
			return nil
		}},
		{"ulimit", "", true, func(f *runFlags, v string) error {
			l, err := spec.ParseUlimit(v)
			if err != nil {
				return fmt.Errorf("--%w", err)
			}
			f.opts.Ulimits = append(f.opts.Ulimits, l)
			return nil
		}},
		{"network", "", true, func(f *runFlags, v string) error {
			if v != "none" && v != "host" {
				return fmt.Errorf("--network %q: want none or host", v)
			}
			f.opts.Network = v
			return nil
		}},
		{"net", "", true, func(f *runFlags, v string) error {
			if v != "none" && v != "host" {
				return fmt.Errorf("--net %q: want none or host", v)
			}
			f.opts.Network = v
			return nil
		}},
		{"tty", "t", false, func(f *runFlags, _ string) error { f.opts.TTY = true; return nil }},
		{"interactive", "i", false, func(f *runFlags, _ string) error { f.opts.Interactive = true; return nil }},
		{"userns", "", false, func(f *runFlags, _ string) error { f.opts.UserNS = true; return nil }},
		{"init", "", false, func(f *runFlags, _ string) error { f.opts.Init = true; return nil }},
		{"rm", "", false, func(_ *runFlags, _ string) error { return nil }},
		{"help", "", false, func(f *runFlags, _ string) error { f.help = true; return nil }},
	}
}

// parseRunArgs reads flags up to the first non-flag (or "--"); the rest
// is the command. It does no I/O: it is table-tested.
func parseRunArgs(args []string) (*runFlags, error) {
	f := &runFlags{}
	defs := runFlagDefs()
	find := func(long, short string) *flagDef {
		for i := range defs {
			if (long != "" && defs[i].long == long) || (short != "" && defs[i].short == short) {
				return &defs[i]
			}
		}
		return nil
	}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		takeValue := func(d *flagDef, inline string, has bool, shown string) error {
			if !d.value {
				if has {
					switch inline {
					case "true":
						return d.set(f, "")
					case "false":
						return nil
					}
					return fmt.Errorf("%s takes no value", shown)
				}
				return d.set(f, "")
			}
			if !has {
				if i+1 >= len(args) {
					return fmt.Errorf("%s needs a value", shown)
				}
				i++
				inline = args[i]
			}
			return d.set(f, inline)
		}
		long, ok := strings.CutPrefix(a, "--")
		if !ok {
			// The steps parse flags with Go's flag package, where
			// -memory is --memory: accept a single dash before a long
			// name too (never ambiguous: no long name is a run of
			// short ones).
			if name, _, _ := strings.Cut(a[1:], "="); len(name) > 1 && find(name, "") != nil {
				long, ok = a[1:], true
			}
		}
		if ok {
			name, val, has := strings.Cut(long, "=")
			d := find(name, "")
			if d == nil {
				return nil, fmt.Errorf("unknown flag --%s", name)
			}
			if err := takeValue(d, val, has, "--"+name); err != nil {
				return nil, err
			}
			continue
		}
		// Short flags, possibly combined: -it, -e=A, -eA=1, -m32m.
		shorts := a[1:]
		for j := 0; j < len(shorts); j++ {
			d := find("", shorts[j:j+1])
			if d == nil {
				return nil, fmt.Errorf("unknown flag -%s", shorts[j:j+1])
			}
			if d.value {
				rest := strings.TrimPrefix(shorts[j+1:], "=")
				if err := takeValue(d, rest, rest != "", "-"+d.short); err != nil {
					return nil, err
				}
				break
			}
			if err := d.set(f, ""); err != nil {
				return nil, err
			}
		}
	}
	f.opts.Args = args[i:]
	if len(f.opts.Args) == 0 && !f.help {
		return nil, fmt.Errorf("no command given")
	}
	return f, nil
}

func runDocker(g *Global, args []string) error {
	f, err := parseRunArgs(args)
	if err != nil {
		return &UsageError{Cmd: "run", Msg: err.Error()}
	}
	if f.help {
		fmt.Fprint(g.stdout, runUsage)
		return nil
	}
	for _, k := range f.envNames {
		if v, ok := os.LookupEnv(k); ok {
			f.opts.Env = append(f.opts.Env, k+"="+v)
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("run needs root: try sudo (rootless containers are not supported)")
	}
	if f.opts.Rootfs, err = findRootfs(f.rootfs); err != nil {
		return err
	}
	if f.user != "" {
		if f.opts.UID, f.opts.GID, err = resolveUser(f.opts.Rootfs, f.user); err != nil {
			return fmt.Errorf("--user: %w", err)
		}
	}
	s, err := spec.FromRun(f.opts)
	if err != nil {
		return err
	}
	if err := spec.Validate(s); err != nil {
		return err
	}
	id := f.name
	if id == "" {
		b := make([]byte, 6)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	return runContainer(g, id, s, f.opts.Interactive)
}

// runContainer is Create → Start → Wait → Delete with the caller's
// stdio, a pty for -t, and signals forwarded. It returns the container's
// exit status as an *ExitError.
func runContainer(g *Global, id string, s *specs.Spec, interactive bool) error {
	o := container.Options{
		Root: g.Root, ID: id, Spec: s, Foreground: true,
		Stdout: os.Stdout, Stderr: os.Stderr,
	}
	if interactive {
		o.Stdin = os.Stdin
	}
	var local *os.File
	if s.Process.Terminal {
		var remote *os.File
		var err error
		if local, remote, err = terminalPair(s.Process); err != nil {
			return err
		}
		defer local.Close()
		defer remote.Close()
		o.ConsoleSocket = remote
	}
	// Signals to minibox go to the container, as docker run proxies them.
	// Registered before Create so none is lost or kills minibox meanwhile.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	defer signal.Stop(sigs)

	c, err := container.Create(o)
	if err != nil {
		var ce *container.Error
		if errors.As(err, &ce) && ce.Code != 125 {
			fmt.Fprintf(g.stderr, "minibox: %s\n", err)
			return &ExitError{Code: ce.Code}
		}
		return err
	}
	// On every early return the container goes; the normal path deletes
	// it below, once, and reports a cleanup error.
	deleted := false
	defer func() {
		if !deleted {
			c.Delete(true)
		}
	}()

	attached := noTerminal()
	if local != nil {
		master, err := console.RecvFd(local)
		if err != nil {
			return err
		}
		defer master.Close()
		in := os.Stdin
		if !interactive {
			// -t without -i: no input, but the window still follows the
			// caller's terminal (Attach does that only for its input).
			in, _ = os.Open(os.DevNull)
			defer in.Close()
			if console.IsTerminal(os.Stdin) {
				winch := make(chan os.Signal, 1)
				signal.Notify(winch, unix.SIGWINCH)
				defer signal.Stop(winch)
				go func() {
					for range winch {
						if b, err := console.Size(os.Stdin); err == nil {
							console.SetSize(master, b)
						}
					}
				}()
			}
		}
		attached = attach(master, in)
	}
	go func() {
		for sig := range sigs {
			c.Signal(sig.(unix.Signal))
		}
	}()
	if err := c.Start(); err != nil {
		return err
	}
	code, err := c.Wait()
	if err != nil {
		return err
	}
	<-attached
	deleted = true
	if err := c.Delete(true); err != nil {
		fmt.Fprintf(g.stderr, "minibox: cleanup: %s\n", err)
	}
	return &ExitError{Code: code}
}

// findRootfs returns the --rootfs directory, or the workspace's rootfs/:
// the folder holding go.work, searched upwards from the working directory
// and then from the minibox binary.
func findRootfs(flag string) (string, error) {
	if flag != "" {
		abs, err := filepath.Abs(flag)
		if err != nil {
			return "", err
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return "", fmt.Errorf("rootfs %s: %w", abs, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("rootfs %s: not a directory", abs)
		}
		return abs, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, d := range starts {
		for ; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
				r := filepath.Join(d, "rootfs")
				if fi, err := os.Stat(r); err == nil && fi.IsDir() {
					return r, nil
				}
				return "", fmt.Errorf("no rootfs at %s: run scripts/rootfs, or pass --rootfs DIR", r)
			}
			if d == "/" {
				break
			}
		}
	}
	return "", errors.New("no rootfs: pass --rootfs DIR (scripts/rootfs builds one in the workspace)")
}

// terminalPair makes the socket pair over which the container sends
// back its pty master (local is our end, remote the container's), and
// sizes the pty like our terminal when stdin is one.
func terminalPair(p *specs.Process) (local, remote *os.File, err error) {
	if local, remote, err = console.Pair(); err != nil {
		return nil, nil, err
	}
	if console.IsTerminal(os.Stdin) {
		if b, err := console.Size(os.Stdin); err == nil {
			p.ConsoleSize = &b
		}
	}
	return local, remote, nil
}

// attach copies in to the pty master and the master's output to our
// stdout in the background. The channel it returns is closed once the
// pty's other side is gone and its output copied.
func attach(master, in *os.File) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		_ = console.Attach(master, in, os.Stdout)
		close(done)
	}()
	return done
}

// noTerminal is the attach of a process without a pty: already over.
func noTerminal() <-chan struct{} {
	done := make(chan struct{})
	close(done)
	return done
}

// resolveUser reads UID[:GID] where each part is a number or a name from
// the rootfs's /etc/passwd and /etc/group. A user without a group gets
// its passwd entry's primary group.
func resolveUser(rootfs, spec string) (uint32, uint32, error) {
	user, group, hasGroup := strings.Cut(spec, ":")
	uid, gid, found, err := lookup(filepath.Join(rootfs, "etc/passwd"), user, 2, 3)
	if err != nil {
		return 0, 0, err
	}
	if !found {
		n, err := strconv.ParseUint(user, 10, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("user %q: not a number and not in the rootfs's /etc/passwd", user)
		}
		uid, gid = uint32(n), 0
		// A numeric uid with a passwd entry takes its primary group.
		if _, g, ok, _ := lookupByID(filepath.Join(rootfs, "etc/passwd"), uid); ok {
			gid = g
		}
	}
	if hasGroup {
		g, _, ok, err := lookup(filepath.Join(rootfs, "etc/group"), group, 2, 2)
		if err != nil {
			return 0, 0, err
		}
		if ok {
			gid = g
		} else {
			n, err := strconv.ParseUint(group, 10, 32)
			if err != nil {
				return 0, 0, fmt.Errorf("group %q: not a number and not in the rootfs's /etc/group", group)
			}
			gid = uint32(n)
		}
	}
	return uid, gid, nil
}

// lookup finds name in a colon-separated database and returns two of its
// numeric fields.
func lookup(file, name string, f1, f2 int) (uint32, uint32, bool, error) {
	return findEntry(file, f1, f2, func(p []string) bool {
		return len(p) > f2 && p[0] == name
	})
}

// lookupByID finds uid in passwd and returns it with its primary group.
func lookupByID(file string, uid uint32) (uint32, uint32, bool, error) {
	id := strconv.FormatUint(uint64(uid), 10)
	return findEntry(file, 2, 3, func(p []string) bool {
		return len(p) > 3 && p[2] == id
	})
}

// findEntry returns the numeric fields f1 and f2 of the first line of a
// colon-separated database that match accepts and where both are
// numbers. A missing file holds no entry.
func findEntry(file string, f1, f2 int, match func([]string) bool) (uint32, uint32, bool, error) {
	fh, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ":")
		if match(p) {
			a, err1 := strconv.ParseUint(p[f1], 10, 32)
			b, err2 := strconv.ParseUint(p[f2], 10, 32)
			if err1 == nil && err2 == nil {
				return uint32(a), uint32(b), true, nil
			}
		}
	}
	return 0, 0, false, sc.Err()
}
