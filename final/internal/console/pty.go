package console

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// NewPty opens a new pseudo-terminal pair through ptmx (usually /dev/ptmx,
// which inside a container points to its own /dev/pts/ptmx) and returns the
// master and the slave's path. Call it after the container's /dev/pts is
// mounted so the slave lives there.
func NewPty(ptmx string) (master *os.File, slave string, err error) {
	// open(2) /dev/ptmx creates a new pair and returns its master end.
	// O_NOCTTY: the master must not become our controlling terminal.
	fd, err := unix.Open(ptmx, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("open %s: %w", ptmx, err)
	}
	master = os.NewFile(uintptr(fd), ptmx)
	// TIOCSPTLCK with 0 unlocks the slave; until then it cannot be opened
	// (unlockpt(3) does the same).
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, "", fmt.Errorf("ioctl TIOCSPTLCK %s: %w", ptmx, err)
	}
	// TIOCGPTN returns the slave's number N: its path is /dev/pts/N next to
	// the ptmx we opened (ptsname(3)).
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, "", fmt.Errorf("ioctl TIOCGPTN %s: %w", ptmx, err)
	}
	return master, fmt.Sprintf("/dev/pts/%d", n), nil
}

// OpenSlave opens the slave end for the process that will use it.
func OpenSlave(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// SetSize sets a terminal's window size (TIOCSWINSZ); the program on the
// slave side gets SIGWINCH.
func SetSize(f *os.File, b specs.Box) error {
	ws := &unix.Winsize{Row: uint16(b.Height), Col: uint16(b.Width)}
	if err := unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		return fmt.Errorf("ioctl TIOCSWINSZ %s: %w", f.Name(), err)
	}
	return nil
}

// Size reads a terminal's window size (TIOCGWINSZ).
func Size(f *os.File) (specs.Box, error) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return specs.Box{}, fmt.Errorf("ioctl TIOCGWINSZ %s: %w", f.Name(), err)
	}
	return specs.Box{Height: uint(ws.Row), Width: uint(ws.Col)}, nil
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// MakeControlling makes the slave the calling process's stdin, stdout,
// stderr and controlling terminal. It is called in the container's process
// just before execve(2): setsid(2) starts a session without a terminal,
// TIOCSCTTY gives it this one, dup2(2) wires the three standard streams.
func MakeControlling(slave *os.File) error {
	if _, err := unix.Setsid(); err != nil && err != unix.EPERM {
		// EPERM: already a session leader (e.g. os/exec's Setsid did it).
		return fmt.Errorf("setsid: %w", err)
	}
	fd := int(slave.Fd())
	if err := unix.IoctlSetInt(fd, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("ioctl TIOCSCTTY %s: %w", slave.Name(), err)
	}
	for _, std := range []int{0, 1, 2} {
		if err := unix.Dup3(fd, std, 0); err != nil {
			return fmt.Errorf("dup3 %s to fd %d: %w", slave.Name(), std, err)
		}
	}
	return nil
}

// MakeRaw puts a terminal in raw mode, as cfmakeraw(3) does, so every key
// reaches the container unprocessed (the container's own pty does the line
// editing and echo). It returns a function that restores the old mode.
func MakeRaw(f *os.File) (restore func() error, err error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, fmt.Errorf("ioctl TCGETS %s: %w", f.Name(), err)
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, fmt.Errorf("ioctl TCSETS %s: %w", f.Name(), err)
	}
	return func() error { return unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
