package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/icmd"
	"gotest.tools/v3/skip"
)

// bin is the minibox binary under test: $MINIBOX_BIN, or built by TestMain.
var bin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

// testMain builds minibox once, unless MINIBOX_BIN names a prebuilt binary
// (the cgroup v2 VM has no Go toolchain), then runs the tests.
func testMain(m *testing.M) int {
	bin = os.Getenv("MINIBOX_BIN")
	if bin == "" {
		dir, err := os.MkdirTemp("", "minibox-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		// Others may run it: the misuse test runs it as nobody.
		if err := os.Chmod(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		bin = filepath.Join(dir, "minibox")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			return 1
		}
	}
	var err error
	if bin, err = filepath.Abs(bin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func needRoot(t *testing.T) {
	t.Helper()
	skip.If(t, os.Geteuid() != 0, "needs root: sudo scripts/test")
}

// workspace is the folder holding go.work above the working directory, or "".
func workspace() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		if dir == filepath.Dir(dir) {
			return ""
		}
	}
}

// rootfsDir is $MINIBOX_ROOTFS or the workspace's rootfs/; the test fails
// if it holds no probe.
func rootfsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MINIBOX_ROOTFS")
	if dir == "" {
		dir = filepath.Join(workspace(), "rootfs")
	}
	dir, err := filepath.Abs(dir)
	assert.NilError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "bin", "probe")); err != nil {
		t.Fatalf("no rootfs at %s: run scripts/rootfs", dir)
	}
	return dir
}

// hostProbe is the probe binary on the host: $MINIBOX_PROBE or the rootfs's.
func hostProbe(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MINIBOX_PROBE"); p != "" {
		return p
	}
	return filepath.Join(rootfsDir(t), "bin", "probe")
}

// probe is the probe's path as the container sees it.
func probe(t *testing.T) string { return "/bin/probe" }

// runArgs is minibox's command line that runs args in a container.
func runArgs(t *testing.T, args ...string) []string {
	t.Helper()
	return append([]string{"run", "--rootfs", rootfsDir(t)}, args...)
}

// oldArgs is minibox's command line for a test of an earlier step's
// behaviour (exit codes, signals, mount leaks, misuse): no --rootfs when
// the default rootfs is the test's, so that the test also grades step 03's
// main.go, which has no --rootfs, in a lab (scripts/lab). Those tests run
// only commands found both on a host and in the rootfs (/bin/sh, /bin/sleep,
// /bin/true). When $MINIBOX_ROOTFS names another rootfs, --rootfs is passed.
func oldArgs(t *testing.T, args ...string) []string {
	t.Helper()
	dir := rootfsDir(t)
	def, err := filepath.EvalSymlinks(defaultRootfs())
	if err == nil {
		if want, err := filepath.EvalSymlinks(dir); err == nil && want == def {
			return append([]string{"run"}, args...)
		}
	}
	return append([]string{"run", "--rootfs", dir}, args...)
}

// defaultRootfs is the rootfs minibox uses without --rootfs, found as
// main.go finds it: rootfs/ beside the go.work above the binary, else above
// the working directory; "" if neither has one.
func defaultRootfs() string {
	starts := []string{filepath.Dir(bin)}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for ; ; dir = filepath.Dir(dir) {
			if exists(filepath.Join(dir, "go.work")) {
				return filepath.Join(dir, "rootfs")
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
	}
	return ""
}

// minibox runs minibox with runArgs(args) and returns the result.
func minibox(t *testing.T, args ...string) *icmd.Result {
	t.Helper()
	return runMinibox(t, runArgs(t, args...))
}

// runMinibox runs minibox with the command line args and returns the result.
func runMinibox(t *testing.T, args []string) *icmd.Result {
	t.Helper()
	return icmd.RunCmd(icmd.Command(bin, args...), icmd.WithTimeout(2*time.Minute))
}

// parseReport reads the probe's key=value lines.
func parseReport(t *testing.T, out string) map[string]string {
	t.Helper()
	r := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		assert.Assert(t, ok, "not key=value: %q", line)
		r[k] = v
	}
	return r
}

// hostReport is what the probe sees when it runs directly on the host.
func hostReport(t *testing.T) map[string]string {
	t.Helper()
	res := icmd.RunCommand(hostProbe(t))
	res.Assert(t, icmd.Success)
	return parseReport(t, res.Stdout())
}

// A view is whether what a process sees is the host's or its container's.
type view string

const (
	host      view = "host"
	container view = "container"
)

// classify tells, for one row of the manifest, whether the container's
// report c shows the host's view or its own, given the host's report h.
func classify(row string, c, h map[string]string) view {
	isHost := false
	switch row {
	case "pid": // the command is PID 1 of its own PID namespace
		isHost = c["pid"] != "1"
	case "hostname":
		isHost = c["hostname"] == h["hostname"]
	case "processes": // the test's own process is a host process
		isHost = slices.Contains(strings.Split(c["procs"], ","), strconv.Itoa(os.Getpid()))
	case "root": // the marker exists only in the rootfs
		isHost = c["marker"] != "yes"
	case "mounts": // a host mount other than / and /proc is visible
		for _, m := range strings.Split(c["mounts"], ",") {
			if m != "/" && m != "/proc" && slices.Contains(strings.Split(h["mounts"], ","), m) {
				isHost = true
			}
		}
	case "cgroup":
		isHost = c["cgroup"] == h["cgroup"]
	case "uid":
		isHost = c["uid"] == h["uid"]
	case "capabilities":
		isHost = c["capeff"] == h["capeff"]
	case "network": // a new network namespace has only lo
		isHost = c["netns_links"] == h["netns_links"]
		for _, link := range strings.Split(c["netns_links"], ",") {
			isHost = isHost || link != "lo"
		}
	}
	if isHost {
		return host
	}
	return container
}

// manifest is what this step isolates and what still leaks: one row per
// thing a process sees. An instructor grades a student's main.go with it.
var manifest = map[string]view{
	"pid":          container, // step 02
	"hostname":     container, // step 02
	"processes":    container, // step 03
	"root":         container, // step 04
	"mounts":       container, // step 04
	"cgroup":       host,      // the host's cgroups, no limits: step 05
	"uid":          host,      // still root of the host: user namespaces come in final/
	"capabilities": host,      // every capability: dropped in final/
	"network":      host,      // the host's interfaces: network namespace in final/
}

func TestManifest(t *testing.T) {
	needRoot(t)
	h := hostReport(t)
	res := minibox(t, "--hostname", "box", probe(t))
	res.Assert(t, icmd.Success)
	c := parseReport(t, res.Stdout())
	got := map[string]view{}
	for row := range manifest {
		got[row] = classify(row, c, h)
	}
	assert.DeepEqual(t, manifest, got)
	assert.Equal(t, c["pid"], "1")
	assert.Equal(t, c["hostname"], "box")
	assert.Equal(t, c["procs"], "1")
	assert.Equal(t, c["mounts"], "/,/proc", "the old root is gone from the mount table")
	var names []string
	entries, err := os.ReadDir(rootfsDir(t))
	assert.NilError(t, err)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.DeepEqual(t, names, strings.Split(c["root"], ","))
}

func TestHostnameUnchanged(t *testing.T) {
	needRoot(t)
	before, err := os.Hostname()
	assert.NilError(t, err)
	runMinibox(t, oldArgs(t, "--hostname", "inside", "/bin/sh", "-c", "hostname changed-inside && hostname")).Assert(t, icmd.Expected{Out: "changed-inside"})
	after, err := os.Hostname()
	assert.NilError(t, err)
	assert.Equal(t, before, after)
}

// TestNoMountLeak: what the container mounts stays in its mount namespace.
func TestNoMountLeak(t *testing.T) {
	needRoot(t)
	before := mounts(t)
	runMinibox(t, oldArgs(t, "/bin/true")).Assert(t, icmd.Success)
	assert.DeepEqual(t, before, mounts(t))
}

// TestNoMountLeakSharedRoot runs minibox where / is shared, as systemd
// mounts it: in a mount namespace of the test's own (unshare(1)) whose / is
// then made rshared. Seen from that namespace, the container's mounts must
// not have propagated out of the container.
func TestNoMountLeakSharedRoot(t *testing.T) {
	needRoot(t)
	unshare, err := exec.LookPath("unshare")
	skip.If(t, err != nil, "needs unshare(1)")
	script := `mount --make-rshared / && cat /proc/self/mountinfo && echo --- && "$@" >/dev/null && echo --- && cat /proc/self/mountinfo`
	args := append([]string{"-m", "sh", "-c", script, "sh", bin}, oldArgs(t, "/bin/true")...)
	res := icmd.RunCmd(icmd.Command(unshare, args...), icmd.WithTimeout(time.Minute))
	res.Assert(t, icmd.Success)
	parts := strings.Split(res.Stdout(), "---\n")
	assert.Equal(t, len(parts), 3)
	assert.Assert(t, strings.Contains(rootMount(parts[0]), " shared:"), "/ is not shared: %s", rootMount(parts[0]))
	assert.DeepEqual(t, parseMountinfo(parts[0]), parseMountinfo(parts[2]))
}

func TestExitCodes(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name string
		args []string
		want icmd.Expected
	}{
		{"success", []string{"/bin/true"}, icmd.Expected{ExitCode: 0}},
		{"own status", []string{"/bin/sh", "-c", "exit 3"}, icmd.Expected{ExitCode: 3}},
		{"status 137 of a process killed inside", []string{"/bin/sh", "-c", `/bin/sh -c 'kill -KILL $$'; exit $?`}, icmd.Expected{ExitCode: 137}},
		{"no such file", []string{"/no/such/file"}, icmd.Expected{ExitCode: 127, Err: "minibox: exec /no/such/file: no such file or directory"}},
		{"not found", []string{"no-such-command"}, icmd.Expected{ExitCode: 127, Err: "minibox: exec no-such-command: executable file not found in $PATH"}},
		{"not executable", []string{"/etc/passwd"}, icmd.Expected{ExitCode: 126, Err: "minibox: exec /etc/passwd: permission denied"}},
		// PID 1 gets no default signal actions, not even from itself.
		{"PID 1 survives its own SIGKILL", []string{"/bin/sh", "-c", "kill -KILL $$; echo still_alive_after_SIGKILL; exit 1"}, icmd.Expected{ExitCode: 1, Out: "still_alive_after_SIGKILL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runMinibox(t, oldArgs(t, tc.args...))
			res.Assert(t, tc.want)
		})
	}
}

// TestSignalKillsContainer: SIGKILL sent to PID 1 from the host is
// delivered (pid_namespaces(7)), and minibox reports 128+9.
func TestSignalKillsContainer(t *testing.T) {
	needRoot(t)
	cmd := start(t, oldArgs(t, "/bin/sleep", "60"))
	pid1 := waitChild(t, cmd.Process.Pid)
	assert.NilError(t, unix.Kill(pid1, unix.SIGKILL))
	assert.Equal(t, waitExit(t, cmd), 137)
}

// TestPdeathsig kills minibox itself: the kernel kills the container too.
func TestPdeathsig(t *testing.T) {
	needRoot(t)
	cmd := start(t, oldArgs(t, "/bin/sleep", "60"))
	pid1 := waitChild(t, cmd.Process.Pid)
	t.Cleanup(func() { killCommand(pid1, "sleep") })
	assert.NilError(t, cmd.Process.Signal(syscall.SIGKILL))
	assert.Equal(t, waitExit(t, cmd), 137)
	eventually(t, fmt.Sprintf("the container (pid %d) dies with minibox", pid1), func() bool { return !alive(pid1) })
}

// TestSignalsForwarded: INT and TERM sent to minibox reach PID 1, which
// here handles them (a shell trap), so the kernel delivers them.
func TestSignalsForwarded(t *testing.T) {
	needRoot(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			// The loop ends by itself after 30 s, should the signal never come.
			script := fmt.Sprintf(`trap "exit 42" %s; echo ready; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do sleep 1 & wait; done`, strings.TrimPrefix(unix.SignalName(sig), "SIG"))
			cmd, ready := startReady(t, oldArgs(t, "/bin/sh", "-c", script))
			<-ready
			assert.NilError(t, cmd.Process.Signal(sig))
			assert.Equal(t, waitExit(t, cmd), 42)
		})
	}
}

func TestRootfsUnchanged(t *testing.T) {
	needRoot(t)
	before := tree(t, rootfsDir(t))
	minibox(t, "/bin/sh", "-c", "/bin/probe escape && /bin/probe && ps").Assert(t, icmd.Expected{Out: "escape=contained"})
	assert.DeepEqual(t, before, tree(t, rootfsDir(t)))
}

func TestDefaultRootfs(t *testing.T) {
	needRoot(t)
	ws := workspace()
	skip.If(t, ws == "", "not inside the workspace: the default rootfs is found from go.work")
	skip.If(t, !exists(filepath.Join(ws, "rootfs", "bin", "probe")), "no rootfs at %s/rootfs: run scripts/rootfs", ws)
	res := icmd.RunCmd(icmd.Command(bin, "run", probe(t)), icmd.WithTimeout(time.Minute))
	res.Assert(t, icmd.Expected{Out: "marker=yes"})
}

// TestMisuse: every misuse prints one line and exits 125, leaving nothing.
func TestMisuse(t *testing.T) {
	needRoot(t)
	elsewhere := t.TempDir()
	// uid 65534 finds the default rootfs from a workspace it may enter
	// (the test's working directory may lie in a folder only root enters).
	open := openWorkspace(t)
	for _, tc := range []struct {
		name string
		args []string
		dir  string // working directory, if not the test's
		as   uint32 // run as this uid, if not 0
		err  string
	}{
		{name: "no verb", args: nil, err: "minibox: no command given; usage: minibox run"},
		{name: "unknown verb", args: []string{"start", "sh"}, err: `minibox: unknown command "start"`},
		{name: "no command", args: oldArgs(t), err: "minibox: run: no command given"},
		{name: "unknown flag", args: []string{"run", "--net", "host", "sh"}, err: "minibox: run: flag provided but not defined: -net"},
		{name: "empty hostname", args: []string{"run", "--hostname", "", "sh"}, err: `minibox: run: --hostname "": want 1 to 64 characters`},
		{name: "missing rootfs", args: []string{"run", "--rootfs", filepath.Join(elsewhere, "nope"), "sh"}, err: "minibox: no rootfs at " + filepath.Join(elsewhere, "nope") + ": run scripts/rootfs"},
		{name: "no workspace", args: []string{"run", "sh"}, dir: elsewhere, err: "minibox: no rootfs: no go.work above the binary or the working directory; pass --rootfs DIR or run scripts/rootfs"},
		{name: "not root", args: oldArgs(t, "/bin/true"), dir: open, as: 65534, err: "operation not permitted (minibox needs root: run it with sudo)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "no workspace" {
				skip.If(t, aboveWorkspace(bin), "%s lies in a workspace, so the default rootfs is found", bin)
			}
			cmd := icmd.Command(bin, tc.args...)
			if tc.as != 0 {
				// setpriv(1) execs minibox as another user, keeping the PID.
				setpriv, err := exec.LookPath("setpriv")
				skip.If(t, err != nil, "needs setpriv(1) to run as uid %d", tc.as)
				skip.If(t, !worldExecutable(bin), "%s is not executable by uid %d", bin, tc.as)
				id := strconv.Itoa(int(tc.as))
				cmd = icmd.Command(setpriv, append([]string{"--reuid", id, "--regid", id, "--clear-groups", bin}, tc.args...)...)
			}
			cmd.Dir = tc.dir
			before := mounts(t)
			res := icmd.RunCmd(cmd, icmd.WithTimeout(time.Minute))
			res.Assert(t, icmd.Expected{ExitCode: 125, Err: tc.err})
			assert.Equal(t, res.Stdout(), "")
			assert.Equal(t, strings.Count(res.Stderr(), "\n"), 1, "one line: %q", res.Stderr())
			assert.DeepEqual(t, before, mounts(t))
		})
	}
}

func TestParseFlags(t *testing.T) {
	rootfs := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want config
		err  string
	}{
		{name: "command only", args: []string{"--rootfs", rootfs, "sh"},
			want: config{cmd: []string{"sh"}, hostname: "minibox", rootfs: rootfs}},
		{name: "flags end at the command", args: []string{"--rootfs", rootfs, "--hostname", "h", "sh", "--hostname", "1"},
			want: config{cmd: []string{"sh", "--hostname", "1"}, hostname: "h", rootfs: rootfs}},
		{name: "no command", args: []string{"--rootfs", rootfs}, err: "run: no command given"},
		{name: "hostname too long", args: []string{"--rootfs", rootfs, "--hostname", strings.Repeat("h", 65), "sh"}, err: "want 1 to 64 characters"},
		{name: "rootfs is a file", args: []string{"--rootfs", "/etc/hostname", "sh"}, err: "no rootfs at /etc/hostname: run scripts/rootfs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFlags(tc.args)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, tc.want, got, cmp.AllowUnexported(config{}))
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"minibox failed", errors.New("pivot_root: invalid argument"), 125},
		{"minibox got EACCES", fmt.Errorf("open: %w", unix.EACCES), 125},
		{"not in PATH", &commandError{"x", &exec.Error{Name: "x", Err: exec.ErrNotFound}}, 127},
		{"no such file", &commandError{"/x", unix.ENOENT}, 127},
		{"no permission", &commandError{"/x", unix.EACCES}, 126},
		{"not a program", &commandError{"/x", unix.ENOEXEC}, 126},
		{"LookPath of a non-executable", &commandError{"/x", &exec.Error{Name: "/x", Err: fs.ErrPermission}}, 126},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, exitCode(tc.err), tc.want)
		})
	}
}

// start starts minibox with the command line args in the background; the
// test's cleanup kills it if it still runs.
func start(t *testing.T, args []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	assert.NilError(t, cmd.Start())
	t.Cleanup(func() { stop(cmd) })
	return cmd
}

// stop kills a minibox the test has not waited for, and its container
// first: a minibox under test may lack Pdeathsig, and the test must leave
// no process behind.
func stop(cmd *exec.Cmd) {
	if cmd.ProcessState != nil {
		return
	}
	if child := childOf(cmd.Process.Pid); child != 0 {
		unix.Kill(child, unix.SIGKILL)
	}
	cmd.Process.Kill()
	cmd.Wait()
}

// killCommand kills the container's command pid (comm is its name),
// should it have outlived its minibox (a minibox under test may lack
// Pdeathsig).
func killCommand(pid int, comm string) {
	if c, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(c)) == comm {
		unix.Kill(pid, unix.SIGKILL)
	}
}

// startReady starts minibox with the command line args; its container's
// command prints "ready" when it is.
func startReady(t *testing.T, args []string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	t.Cleanup(func() { stop(cmd) })
	ready := make(chan struct{})
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if s.Text() == "ready" {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the container did not print ready")
	}
	return cmd, ready
}

// waitExit waits for minibox and returns its exit status (128+N if killed).
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var exitErr *exec.ExitError
	assert.Assert(t, err == nil || errors.As(err, &exitErr), "%v", err)
	status := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if status.Signaled() {
		return 128 + int(status.Signal())
	}
	return status.ExitStatus()
}

// waitChild waits until the child of minibox pid has exec'd the command
// and returns its PID as the host sees it.
func waitChild(t *testing.T, pid int) int {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		child := childOf(pid)
		if child != 0 && isExecd(child) {
			return child
		}
		if time.Now().After(deadline) {
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", child))
			t.Fatalf("timed out waiting for the container's command: minibox %d alive=%v, child %d (%q)",
				pid, alive(pid), child, strings.TrimSpace(string(comm)))
		}
	}
}

// childOf returns a child of process pid, or 0: the process whose stat(5)
// line in /proc names pid as its parent.
func childOf(pid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			return child
		}
	}
	return 0
}

// alive tells whether process pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// isExecd tells whether process pid runs the probe (not minibox's child
// half any more).
func isExecd(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.TrimSpace(string(comm)) != "minibox" && strings.TrimSpace(string(comm)) != "exe"
}

// eventually polls cond until it holds, or fails the test after a while.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// parseMountinfo lists the mount point and type of each mountinfo line.
func parseMountinfo(data string) []string {
	var out []string
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		_, after, _ := strings.Cut(line, " - ")
		fstype, _, _ := strings.Cut(after, " ")
		out = append(out, f[4]+" "+fstype)
	}
	return out
}

// rootMount is the mountinfo line of /.
func rootMount(data string) string {
	for _, line := range strings.Split(data, "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == "/" {
			return line
		}
	}
	return ""
}

// mounts lists the host's mounts a run could leave behind (CONTRIBUTING.md:
// only objects of ours, as other tests may mount things meanwhile): mounts
// on /proc and anything under the rootfs.
func mounts(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	assert.NilError(t, err)
	var out []string
	for _, m := range parseMountinfo(string(data)) {
		mp, _, _ := strings.Cut(m, " ")
		if mp == "/proc" || strings.HasPrefix(mp, rootfsDir(t)) {
			out = append(out, m)
		}
	}
	return out
}

// tree lists every file below dir with its type, mode and size.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size := info.Size()
		if info.IsDir() {
			size = 0
		}
		out = append(out, fmt.Sprintf("%s %v %d", path, info.Mode(), size))
		return nil
	})
	assert.NilError(t, err)
	return out
}

// openWorkspace makes a workspace that every user may enter: a go.work and
// a rootfs link to the test's rootfs, in a folder of mode 0755.
func openWorkspace(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "minibox-workspace-")
	assert.NilError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	assert.NilError(t, os.Chmod(dir, 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "go.work"), []byte("go 1.26\n"), 0o644))
	assert.NilError(t, os.Symlink(rootfsDir(t), filepath.Join(dir, "rootfs")))
	return dir
}

// aboveWorkspace tells whether a go.work lies above file's folder.
func aboveWorkspace(file string) bool {
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if exists(filepath.Join(dir, "go.work")) {
			return true
		}
		if dir == filepath.Dir(dir) {
			return false
		}
	}
}

// worldExecutable tells whether any user may run file.
func worldExecutable(file string) bool {
	for p := file; p != "/"; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err != nil || info.Mode().Perm()&0o001 == 0 {
			return false
		}
	}
	return true
}

func exists(file string) bool {
	_, err := os.Stat(file)
	return err == nil
}
