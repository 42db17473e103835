package console

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Dial connects to the console socket a client named (--console-socket)
// and returns the connection as a file, so it can be handed to the process
// that will allocate the pty inside the container, where the socket's path
// may not even be visible.
func Dial(path string) (*os.File, error) {
	// socket(2) + connect(2) to a SOCK_STREAM unix socket, as runc does.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect to console socket %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// Pair returns two connected unix sockets: minibox keeps one end to receive
// the master when it is the client itself (`run -t`, `exec -t`).
func Pair() (local, remote *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "console-local"), os.NewFile(uintptr(fds[1]), "console-remote"), nil
}

// SendFd sends f over the unix socket sock as SCM_RIGHTS ancillary data
// (unix(7)); the receiver gets its own descriptor for the same open file.
// The message body is f's name (the slave's path for a pty master, as runc
// sends it), which receivers may log.
func SendFd(sock, f *os.File) error {
	name := []byte(filepath.Clean(f.Name()))
	rights := unix.UnixRights(int(f.Fd()))
	// sendmsg(2) carries the descriptor in the control message.
	if err := unix.Sendmsg(int(sock.Fd()), name, rights, nil, 0); err != nil {
		return fmt.Errorf("sendmsg SCM_RIGHTS on %s: %w", sock.Name(), err)
	}
	return nil
}

// RecvFd receives one descriptor sent with SendFd.
func RecvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	// recvmsg(2) with MSG_CMSG_CLOEXEC so the received descriptor does not
	// leak into programs we start later.
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("recvmsg on %s: %w", sock.Name(), err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("parse control message on %s: %w", sock.Name(), err)
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("recvmsg on %s: want one control message, got %d", sock.Name(), len(msgs))
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		return nil, fmt.Errorf("parse SCM_RIGHTS on %s: %w", sock.Name(), err)
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("recvmsg on %s: want one descriptor, got %d", sock.Name(), len(fds))
	}
	return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
}
