package cli

import (
	"errors"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/console"
	"minibox.dev/final/internal/container"
	"minibox.dev/final/internal/spec"
)

// runBundle is runc's `run`: create and start in one go. Without --detach
// minibox stays the container's parent: it forwards signals, attaches the
// terminal when process.terminal is set and no --console-socket is given,
// waits, deletes the container and exits with the program's status.
func runBundle(g *Global, args []string) error {
	c := &Command{Name: "run", Args: "--bundle DIR [--detach] [--pid-file FILE] [--console-socket SOCK] ID",
		Summary: "create and start a container from a bundle (runc's run)"}
	f := newFlags(c)
	var o bundleOpts
	o.register(f)
	detach := f.Bool("detach", false, "return once the container runs; it keeps running")
	f.BoolVar(detach, "d", false, "")
	rest, err := f.parse(g, args, 1, 1)
	if err != nil {
		return err
	}
	id := rest[0]

	var local *os.File
	if !*detach && o.consoleSocket == "" {
		// Whether the config wants a terminal is known only after loading
		// it; a socket pair costs nothing if it stays unused.
		if s, err := spec.Load(o.bundle); err == nil && s.Process.Terminal {
			var remote *os.File
			if local, remote, err = console.Pair(); err != nil {
				return err
			}
			defer local.Close()
			defer remote.Close()
			o.console = remote
		}
	}
	sigs := make(chan os.Signal, 16)
	if !*detach {
		signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
		defer signal.Stop(sigs)
	}
	ct, err := createContainer(g, id, &o, !*detach)
	if err != nil {
		return exitCodeOf(g, err)
	}
	if *detach {
		if err := startContainer(g, ct); err != nil {
			_ = deleteContainer(g, ct, true)
			return err
		}
		return nil
	}
	defer ct.Delete(true)

	attached := noTerminal()
	if local != nil {
		master, err := console.RecvFd(local)
		if err != nil {
			return err
		}
		defer master.Close()
		attached = attach(master, os.Stdin)
	}
	go func() {
		for sig := range sigs {
			if sig != unix.SIGWINCH {
				_ = ct.Signal(sig.(unix.Signal))
			}
		}
	}()
	if err := startContainer(g, ct); err != nil {
		return err
	}
	code, err := ct.Wait()
	if err != nil {
		return err
	}
	<-attached
	if err := deleteContainer(g, ct, true); err != nil {
		g.log.Warnf("cleanup: %s", err)
		return err
	}
	return &ExitError{Code: code}
}

// exitCodeOf turns a create failure that carries a status (127: the program
// was not found, 126: not executable) into that exit code, with the
// message printed; other errors stay minibox's own (125).
func exitCodeOf(g *Global, err error) error {
	var ce *container.Error
	if errors.As(err, &ce) && ce.Code != 125 && ce.Code != 0 {
		g.log.Errorf("%s", err)
		g.printErr(err)
		return &ExitError{Code: ce.Code}
	}
	return err
}
