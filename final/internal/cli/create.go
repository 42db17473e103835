package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/console"
	"minibox.dev/final/internal/container"
	"minibox.dev/final/internal/hooks"
	"minibox.dev/final/internal/spec"
)

// bundleOpts are the flags create and `run --bundle` share (runc's names).
type bundleOpts struct {
	bundle        string
	pidFile       string
	consoleSocket string
	// console is a socket minibox made itself to receive the pty master
	// (`run` without --console-socket), used when consoleSocket is empty.
	console     *os.File
	preserveFds int
}

func (o *bundleOpts) register(f *flags) {
	f.StringVar(&o.bundle, "bundle", ".", "the bundle: a directory with config.json (default: the current directory)")
	f.StringVar(&o.bundle, "b", ".", "")
	f.StringVar(&o.pidFile, "pid-file", "", "write the container's pid (as the host sees it) to FILE")
	f.StringVar(&o.consoleSocket, "console-socket", "", "unix socket to send the pty master to (process.terminal)")
	// Accepted for runc compatibility. minibox always uses pivot_root and
	// never creates session keyrings, so these two change nothing.
	f.Bool("no-pivot", false, "")
	f.Bool("no-new-keyring", false, "")
	f.IntVar(&o.preserveFds, "preserve-fds", 0, "")
}

// check refuses what minibox cannot do rather than ignoring it.
func (o *bundleOpts) check() error {
	if o.preserveFds != 0 {
		return errors.New("--preserve-fds: not supported: the container gets stdin, stdout and stderr only")
	}
	return nil
}

func createCommand() *Command {
	c := &Command{Name: "create", Args: "[--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID",
		Summary: "create a container from a bundle; it waits, created, until start"}
	c.Run = func(g *Global, args []string) error {
		f := newFlags(c)
		var o bundleOpts
		o.register(f)
		rest, err := f.parse(g, args, 1, 1)
		if err != nil {
			return err
		}
		_, err = createContainer(g, rest[0], &o, false)
		return err
	}
	return c
}

// createContainer is create: load and validate the bundle's config, set
// the container up to "created", write the pid file. The container's
// process inherits our stdio, which is how conmon and the shim get its
// output. foreground is for `run`: the container dies with us.
func createContainer(g *Global, id string, o *bundleOpts, foreground bool) (*container.Container, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := container.ValidID(id); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(o.bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", o.bundle, err)
	}
	s, err := spec.Load(bundle)
	if err != nil {
		return nil, err
	}
	opts := container.Options{
		Root: g.Root, ID: id, Bundle: bundle, Spec: s, Foreground: foreground,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
	}
	switch {
	case s.Process.Terminal && o.consoleSocket == "" && o.console != nil:
		opts.ConsoleSocket = o.console
	case s.Process.Terminal && o.consoleSocket == "":
		return nil, errors.New("process.terminal is true: --console-socket is required to receive the terminal (or set terminal to false)")
	case !s.Process.Terminal && o.consoleSocket != "":
		return nil, errors.New("--console-socket given but process.terminal is false")
	case o.consoleSocket != "":
		sock, err := console.Dial(o.consoleSocket)
		if err != nil {
			return nil, err
		}
		defer sock.Close()
		opts.ConsoleSocket = sock
	}
	g.log.Debugf("create %s from %s", id, bundle)
	c, err := container.Create(opts)
	if err != nil {
		return nil, err
	}
	if o.pidFile != "" {
		if err := writePidFile(o.pidFile, c.Pid); err != nil {
			_ = c.Delete(true)
			return nil, err
		}
	}
	return c, nil
}

// writePidFile writes the bare decimal pid, atomically (a temp file renamed
// over the name): a client polling for the file never reads half of it.
func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("pid file %s: %w", path, err)
	}
	tmp := filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("pid file %s: %w", path, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pid file %s: %w", path, err)
	}
	return nil
}

// load reads a container's state; an unknown ID gives runc's wording
// ("does not exist"), which podman and containerd look for.
func load(g *Global, id string) (*container.Container, error) {
	return container.Load(g.Root, id)
}

// idCommand is a verb whose one argument is a container's ID (start,
// state, pause, resume): it loads the container and hands it to do.
func idCommand(name, summary string, do func(*Global, *container.Container) error) *Command {
	c := &Command{Name: name, Args: "ID", Summary: summary}
	c.Run = func(g *Global, args []string) error {
		rest, err := newFlags(c).parse(g, args, 1, 1)
		if err != nil {
			return err
		}
		ct, err := load(g, rest[0])
		if err != nil {
			return err
		}
		return do(g, ct)
	}
	return c
}

// stateOf is the spec's state with minibox's view of the status (paused
// included), as hooks and `state` show it.
func stateOf(c *container.Container) specs.State {
	s := c.OCIState()
	s.Status = c.StatusWithPause()
	return s
}

// runHooks runs one kind of hooks from the container's config. Failures of
// poststart and poststop are warnings (logged, printed), the others errors.
func runHooks(g *Global, c *container.Container, k hooks.Kind, st specs.State) error {
	if c.Spec == nil {
		return nil
	}
	err := hooks.Run(g.ctx(), k, hooks.Of(c.Spec.Hooks, k), &st)
	if err == nil || k.Fatal() {
		return err
	}
	g.log.Warnf("%s", err)
	fmt.Fprintf(g.stderr, "minibox: warning: %s\n", err)
	return nil
}
