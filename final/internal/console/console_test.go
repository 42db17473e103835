package console

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/skip"
)

// newPair opens a pty on the host's /dev/ptmx; unprivileged users may do it.
func newPair(t *testing.T) (master, slave *os.File) {
	t.Helper()
	_, err := os.Stat("/dev/ptmx")
	skip.If(t, err != nil, "no /dev/ptmx on this host")
	master, name, err := NewPty("/dev/ptmx")
	assert.NilError(t, err)
	assert.Assert(t, strings.HasPrefix(name, "/dev/pts/"), name)
	slave, err = OpenSlave(name)
	assert.NilError(t, err)
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

func TestPtyCarriesBytes(t *testing.T) {
	master, slave := newPair(t)
	assert.Assert(t, IsTerminal(slave))
	assert.Assert(t, IsTerminal(master))
	_, err := slave.Write([]byte("hello\n"))
	assert.NilError(t, err)
	buf := make([]byte, 64)
	n, err := master.Read(buf)
	assert.NilError(t, err)
	// The slave's line discipline turns \n into \r\n (ONLCR), as on any tty.
	assert.Equal(t, string(buf[:n]), "hello\r\n")
}

func TestSize(t *testing.T) {
	master, slave := newPair(t)
	want := specs.Box{Height: 42, Width: 132}
	assert.NilError(t, SetSize(master, want))
	got, err := Size(slave)
	assert.NilError(t, err)
	assert.DeepEqual(t, got, want)
}

func TestNotATerminal(t *testing.T) {
	f, err := os.Open("/dev/null")
	assert.NilError(t, err)
	defer f.Close()
	assert.Assert(t, !IsTerminal(f))
	_, err = Size(f)
	assert.ErrorContains(t, err, "ioctl TIOCGWINSZ /dev/null")
	_, err = MakeRaw(f)
	assert.ErrorContains(t, err, "ioctl TCGETS /dev/null")
}

func TestNewPtyMissing(t *testing.T) {
	_, _, err := NewPty("/nonexistent/ptmx")
	assert.Error(t, err, "open /nonexistent/ptmx: no such file or directory")
}

func TestMakeRawAndRestore(t *testing.T) {
	_, slave := newPair(t)
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	assert.NilError(t, err)
	assert.Assert(t, before.Lflag&unix.ICANON != 0, "a new pty starts in canonical mode")

	restore, err := MakeRaw(slave)
	assert.NilError(t, err)
	raw, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	assert.NilError(t, err)
	assert.Equal(t, raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG), uint32(0))

	assert.NilError(t, restore())
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	assert.NilError(t, err)
	assert.DeepEqual(t, *after, *before)
}

// The master travels over a unix socket as SCM_RIGHTS, the way conmon and
// the containerd shim receive it from --console-socket.
func TestSendRecvFd(t *testing.T) {
	master, slave := newPair(t)
	local, remote, err := Pair()
	assert.NilError(t, err)
	defer local.Close()
	defer remote.Close()

	assert.NilError(t, SendFd(remote, master))
	got, err := RecvFd(local)
	assert.NilError(t, err)
	defer got.Close()
	assert.Equal(t, got.Name(), "/dev/ptmx")

	// The received descriptor is the same pty: what the slave writes
	// arrives on it.
	_, err = slave.Write([]byte("x"))
	assert.NilError(t, err)
	buf := make([]byte, 8)
	n, err := got.Read(buf)
	assert.NilError(t, err)
	assert.Equal(t, string(buf[:n]), "x")
}

func TestRecvFdWithoutDescriptor(t *testing.T) {
	local, remote, err := Pair()
	assert.NilError(t, err)
	defer local.Close()
	defer remote.Close()
	_, err = remote.Write([]byte("no fd here"))
	assert.NilError(t, err)
	_, err = RecvFd(local)
	assert.ErrorContains(t, err, "want one control message, got 0")
}

func TestDialMissingSocket(t *testing.T) {
	_, err := Dial(t.TempDir() + "/nope.sock")
	assert.ErrorContains(t, err, "connect to console socket")
	assert.ErrorContains(t, err, "no such file or directory")
}

func TestDialAndSend(t *testing.T) {
	master, _ := newPair(t)
	path := t.TempDir() + "/console.sock"
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	assert.NilError(t, err)
	listener := os.NewFile(uintptr(fd), path)
	defer listener.Close()
	assert.NilError(t, unix.Bind(fd, &unix.SockaddrUnix{Name: path}))
	assert.NilError(t, unix.Listen(fd, 1))

	conn, err := Dial(path)
	assert.NilError(t, err)
	defer conn.Close()
	nfd, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
	assert.NilError(t, err)
	server := os.NewFile(uintptr(nfd), "accepted")
	defer server.Close()

	assert.NilError(t, SendFd(conn, master))
	got, err := RecvFd(server)
	assert.NilError(t, err)
	got.Close()
}

// Attach copies the container's output to ours and returns once the
// slave side is closed (EIO on the master), not before.
func TestAttachEndsWhenSlaveCloses(t *testing.T) {
	master, slave := newPair(t)
	in, err := os.Open("/dev/null")
	assert.NilError(t, err)
	defer in.Close()
	r, w, err := os.Pipe()
	assert.NilError(t, err)
	defer r.Close()

	done := make(chan error, 1)
	go func() { done <- Attach(master, in, w); w.Close() }()
	_, err = slave.Write([]byte("bye\n"))
	assert.NilError(t, err)
	slave.Close()
	assert.NilError(t, <-done)
	var out bytes.Buffer
	_, err = io.Copy(&out, r)
	assert.NilError(t, err)
	assert.Equal(t, out.String(), "bye\r\n")
}
