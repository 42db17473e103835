package console

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// OpenPTY opens a new pseudo-terminal from ptmx (the container's
// /dev/ptmx, so the slave lives in its devpts instance) and returns the
// master and the slave's path.
func OpenPTY(ptmx string) (*os.File, string, error) {
	fd, err := unix.Open(ptmx, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("open %s: %w", ptmx, err)
	}
	// TIOCSPTLCK 0 unlocks the slave (unlockpt(3)); TIOCGPTN reads its
	// number N: the slave is /dev/pts/N.
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		return nil, "", fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		return nil, "", fmt.Errorf("get pty number: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), fmt.Sprintf("/dev/pts/%d", n), nil
}

// SendFd passes f over the unix socket sock with an SCM_RIGHTS message;
// the receiver gets its own descriptor for the same open file.
func SendFd(sock *os.File, f *os.File) error {
	rights := unix.UnixRights(int(f.Fd()))
	if err := unix.Sendmsg(int(sock.Fd()), []byte(f.Name()), rights, nil, 0); err != nil {
		return fmt.Errorf("send %s over console socket: %w", f.Name(), err)
	}
	return nil
}

// RecvFd receives one descriptor sent with SendFd.
func RecvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive from console socket: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("console socket: no file descriptor received")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("console socket: no file descriptor received")
	}
	return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
}

// SetRaw puts the terminal fd in raw mode (no echo, no line editing, no
// signals from keys: they go to the container's terminal instead) and
// returns a function restoring the previous mode.
func SetRaw(fd int) (func(), error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *old
	// cfmakeraw(3)
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// CopyWinsize gives the terminal dst the window size of src
// (TIOCGWINSZ/TIOCSWINSZ); the kernel sends SIGWINCH to dst's foreground
// process group when it changes.
func CopyWinsize(src, dst int) error {
	ws, err := unix.IoctlGetWinsize(src, unix.TIOCGWINSZ)
	if err != nil {
		return err
	}
	return unix.IoctlSetWinsize(dst, unix.TIOCSWINSZ, ws)
}
