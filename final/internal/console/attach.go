package console

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Attach connects the caller's terminal to a container's pty master: what
// the user types goes to the master, what the container writes comes back.
// When in is a terminal it is put in raw mode for the duration and its size
// is copied to the pty now and on every SIGWINCH. Attach returns when the
// container side closes (reads on the master fail with EIO once no process
// holds the slave), with the terminal restored.
func Attach(master, in, out *os.File) error {
	if IsTerminal(in) {
		if b, err := Size(in); err == nil {
			_ = SetSize(master, b)
		}
		restore, err := MakeRaw(in)
		if err != nil {
			return err
		}
		defer restore()
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				if b, err := Size(in); err == nil {
					_ = SetSize(master, b)
				}
			}
		}()
	}
	// Input is copied in the background: a read on the user's terminal
	// cannot be interrupted, and the output side decides when we are done.
	go func() { _, _ = io.Copy(master, in) }()
	_, err := io.Copy(out, master)
	if errors.Is(err, unix.EIO) {
		return nil // the slave side is closed: the normal end
	}
	return err
}
