package nsenter

// The import of "C" makes the go tool compile nsenter.c, whose constructor
// is linked into every binary that imports this package.

// #cgo CFLAGS: -Wall -Werror
import "C"

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The environment variables the constructor reads. They must match nsenter.c.
const (
	EnvPaths = "_MINIBOX_NSENTER_PATHS"
	EnvSync  = "_MINIBOX_NSENTER_SYNC"
)

// maxNamespaces is the constructor's limit (MAX_NS in nsenter.c).
const maxNamespaces = 16

// order is the order in which namespaces are joined, by their name under
// /proc/PID/ns. The user namespace comes first: joining it grants the
// capabilities that the other joins are checked against. The mount namespace
// comes last because joining it also changes the root and working directory.
var order = []string{"user", "ipc", "uts", "net", "pid", "cgroup", "time", "mnt"}

// Paths returns the namespace files of process pid that differ from the
// caller's own, in the order they must be joined. Namespaces the process
// shares with the caller are left out: setns(2) into one's own user namespace
// fails with EINVAL, and joining any other one again would change nothing.
func Paths(pid int) ([]string, error) {
	var paths []string
	for _, name := range order {
		theirs := fmt.Sprintf("/proc/%d/ns/%s", pid, name)
		same, err := sameFile(theirs, "/proc/self/ns/"+name)
		if errors.Is(err, os.ErrNotExist) && name == "time" {
			continue // kernels before 5.6 have no time namespace
		}
		if err != nil {
			return nil, err
		}
		if !same {
			paths = append(paths, theirs)
		}
	}
	return paths, nil
}

// sameFile reports whether two namespace files name the same namespace:
// stat(2) gives each namespace a unique device and inode pair.
func sameFile(a, b string) (bool, error) {
	var sa, sb unix.Stat_t
	if err := unix.Stat(a, &sa); err != nil {
		return false, fmt.Errorf("stat %s: %w", a, err)
	}
	if err := unix.Stat(b, &sb); err != nil {
		return false, fmt.Errorf("stat %s: %w", b, err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}

// Joiner is a started process whose constructor waits to join namespaces.
type Joiner struct {
	cmd  *exec.Cmd
	sync *os.File
	// Reader reads the sync socket after Release: what the child sends
	// once it runs Go code. It keeps whatever Release read ahead.
	Reader *bufio.Reader
}

// Start starts cmd with the constructor told to join paths. The process
// stops in the constructor until Release; meanwhile the caller can put
// Pid() into cgroups. Start adds one file to cmd.ExtraFiles (the child's
// end of a socket pair) and two variables to cmd.Env.
func Start(cmd *exec.Cmd, paths []string) (*Joiner, error) {
	if len(paths) == 0 {
		return nil, errors.New("nsenter: no namespaces to join")
	}
	if len(paths) > maxNamespaces {
		return nil, fmt.Errorf("nsenter: %d namespaces, at most %d", len(paths), maxNamespaces)
	}
	for _, p := range paths {
		if strings.Contains(p, ":") {
			return nil, fmt.Errorf("nsenter: namespace path %q contains ':'", p)
		}
	}
	// socketpair(2) gives a two-way channel: 'g' goes down, the pid line and
	// the child's messages come up.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "nsenter-sync-parent")
	child := os.NewFile(uintptr(fds[1]), "nsenter-sync-child")
	defer child.Close()

	cmd.ExtraFiles = append(cmd.ExtraFiles, child)
	fd := 3 + len(cmd.ExtraFiles) - 1
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env,
		EnvPaths+"="+strings.Join(paths, ":"),
		EnvSync+"="+strconv.Itoa(fd))
	if err := cmd.Start(); err != nil {
		parent.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return &Joiner{cmd: cmd, sync: parent, Reader: bufio.NewReader(parent)}, nil
}

// Pid is the pid of the process waiting in the constructor.
func (j *Joiner) Pid() int { return j.cmd.Process.Pid }

// Sync is the parent's end of the socket shared with the joined child.
func (j *Joiner) Sync() *os.File { return j.sync }

// Release lets the constructor join the namespaces and fork, and returns the
// pid of the forked child (as the host sees it). The constructor's own
// process has exited and been reaped when Release returns.
func (j *Joiner) Release() (int, error) {
	if _, err := j.sync.Write([]byte{'g'}); err != nil {
		j.kill()
		return 0, fmt.Errorf("nsenter: release: %w", err)
	}
	line, readErr := j.Reader.ReadString('\n')
	waitErr := j.cmd.Wait()
	line = strings.TrimSuffix(line, "\n")
	switch {
	case strings.HasPrefix(line, "pid "):
		pid, err := strconv.Atoi(strings.TrimPrefix(line, "pid "))
		if err != nil {
			return 0, fmt.Errorf("nsenter: bad pid line %q", line)
		}
		return pid, nil
	case strings.HasPrefix(line, "error "):
		return 0, fmt.Errorf("nsenter: %s", strings.TrimPrefix(line, "error "))
	case readErr != nil:
		return 0, fmt.Errorf("nsenter: no answer from the joining process (%v): %w", waitErr, readErr)
	default:
		return 0, fmt.Errorf("nsenter: unexpected answer %q", line)
	}
}

// Close closes the parent's end of the sync socket.
func (j *Joiner) Close() error { return j.sync.Close() }

// kill ends the waiting process after a failure; it has not joined anything.
func (j *Joiner) kill() {
	_ = j.cmd.Process.Kill()
	_ = j.cmd.Wait()
}
