package nsenter

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/skip"
)

// envChild makes the test binary act as the joined child: it reports what it
// sees on the sync socket (fd 3) and exits before any test runs. /proc here
// is still the host's procfs, so /proc/self names the child's namespaces.
const envChild = "MINIBOX_NSENTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		var uts unix.Utsname
		_ = unix.Uname(&uts)
		sync := os.NewFile(3, "sync")
		pidns, _ := os.Readlink("/proc/self/ns/pid")
		mntns, _ := os.Readlink("/proc/self/ns/mnt")
		fmt.Fprintf(sync, "hostname=%s pidns=%s mntns=%s env=%q\n",
			unix.ByteSliceToString(uts.Nodename[:]), pidns, mntns, os.Getenv(EnvPaths))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPathsOfSelfIsEmpty(t *testing.T) {
	paths, err := Paths(os.Getpid())
	assert.NilError(t, err)
	assert.Equal(t, len(paths), 0, "a process shares every namespace with itself: %v", paths)
}

func TestPathsOfMissingProcess(t *testing.T) {
	_, err := Paths(1 << 30)
	assert.ErrorContains(t, err, "no such file or directory")
}

func TestStartRejects(t *testing.T) {
	tooMany := make([]string, maxNamespaces+1)
	for i := range tooMany {
		tooMany[i] = "/proc/self/ns/uts"
	}
	for _, tc := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"nothing to join", nil, "no namespaces to join"},
		{"too many", tooMany, "17 namespaces, at most 16"},
		{"separator in a path", []string{"/tmp/a:b"}, `namespace path "/tmp/a:b" contains ':'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Start(exec.Command("/bin/true"), tc.paths)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// The constructor reports a namespace file it cannot open, naming it,
// without joining anything. This needs no privileges.
func TestConstructorReportsOpenError(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1")
	j, err := Start(cmd, []string{"/proc/self/ns/uts", "/nonexistent/ns/mnt"})
	assert.NilError(t, err)
	defer j.Close()
	_, err = j.Release()
	assert.Error(t, err, "nsenter: open /nonexistent/ns/mnt: No such file or directory")
}

// A real join: a target process with its own UTS, PID and mount namespaces
// and its own hostname. The forked child must see that hostname, be in the
// target's PID and mount namespaces, and not see the constructor's variables.
func TestConstructorJoinsAndForks(t *testing.T) {
	skip.If(t, os.Geteuid() != 0, "needs root: sudo scripts/test")
	target := exec.Command("/bin/sh", "-c", "hostname nsenter-test && exec sleep 60")
	// CLONE_NEWUTS/NEWPID/NEWNS give the target namespaces of its own.
	target.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUTS | unix.CLONE_NEWPID | unix.CLONE_NEWNS,
		Pdeathsig:  unix.SIGKILL,
	}
	var out bytes.Buffer
	target.Stdout, target.Stderr = &out, &out
	assert.NilError(t, target.Start())
	t.Cleanup(func() {
		_ = target.Process.Kill()
		_ = target.Wait()
	})
	// Wait for the hostname to be set: the shell execs sleep right after.
	for i := 0; ; i++ {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", target.Process.Pid))
		if strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		assert.Assert(t, i < 500, "target never became sleep: %s", out.String())
		unix.Nanosleep(&unix.Timespec{Nsec: 10e6}, nil)
	}

	paths, err := Paths(target.Process.Pid)
	assert.NilError(t, err)
	p := target.Process.Pid
	assert.DeepEqual(t, paths, []string{
		fmt.Sprintf("/proc/%d/ns/uts", p),
		fmt.Sprintf("/proc/%d/ns/pid", p),
		fmt.Sprintf("/proc/%d/ns/mnt", p),
	})

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1")
	j, err := Start(cmd, paths)
	assert.NilError(t, err)
	defer j.Close()
	childPid, err := j.Release()
	assert.NilError(t, err)
	assert.Assert(t, childPid > 0 && childPid != cmd.Process.Pid)

	line, err := j.Reader.ReadString('\n')
	assert.NilError(t, err)
	pidns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p))
	assert.NilError(t, err)
	mntns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", p))
	assert.NilError(t, err)
	want := fmt.Sprintf("hostname=nsenter-test pidns=%s mntns=%s env=\"\"\n", pidns, mntns)
	assert.Equal(t, line, want)
}
