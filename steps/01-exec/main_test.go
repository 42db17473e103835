package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// probe is the probe's path as the container sees it: this step runs on
// the host's /, so that is the host's path.
func probe(t *testing.T) string { return hostProbe(t) }

// runArgs is minibox's command line that runs args in a container.
func runArgs(t *testing.T, args ...string) []string {
	t.Helper()
	return append([]string{"run"}, args...)
}

// minibox runs minibox with runArgs(args) and returns the result.
func minibox(t *testing.T, args ...string) *icmd.Result {
	t.Helper()
	return icmd.RunCmd(icmd.Command(bin, runArgs(t, args...)...), icmd.WithTimeout(2*time.Minute))
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
	"pid":          host, // a host PID: step 02
	"hostname":     host, // the host's name: step 02
	"processes":    host, // the host's /proc shows every process: step 03
	"root":         host, // the host's / : step 04
	"mounts":       host, // the host's mounts, plus our /proc: step 04
	"cgroup":       host, // the host's cgroups, no limits: step 05
	"uid":          host, // still root of the host: user namespaces come in final/
	"capabilities": host, // every capability: dropped in final/
	"network":      host, // the host's interfaces: network namespace in final/
}

func TestManifest(t *testing.T) {
	h := hostReport(t)
	res := minibox(t, probe(t))
	res.Assert(t, icmd.Success)
	c := parseReport(t, res.Stdout())
	got := map[string]view{}
	for row := range manifest {
		got[row] = classify(row, c, h)
	}
	assert.DeepEqual(t, manifest, got)
}

// TestChild: step 01's run does not use child yet; `minibox child CMD`
// only execs CMD in place, keeping minibox's PID.
func TestChild(t *testing.T) {
	res := icmd.RunCmd(icmd.Command(bin, "child", probe(t)))
	res.Assert(t, icmd.Success)
	c := parseReport(t, res.Stdout())
	assert.Equal(t, c["pid"], strconv.Itoa(res.Cmd.Process.Pid))
	icmd.RunCmd(icmd.Command(bin, "child", probe(t), "exit", "3")).Assert(t, icmd.Expected{ExitCode: 3})
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want icmd.Expected
	}{
		{"success", []string{probe(t), "exit", "0"}, icmd.Expected{ExitCode: 0}},
		{"own status", []string{probe(t), "exit", "3"}, icmd.Expected{ExitCode: 3}},
		{"status 137 of a process killed inside", []string{"/bin/sh", "-c", probe(t) + " kill-self KILL; exit $?"}, icmd.Expected{ExitCode: 137}},
		{"no such file", []string{"/no/such/file"}, icmd.Expected{ExitCode: 127, Err: "minibox: exec /no/such/file: no such file or directory"}},
		{"not found", []string{"no-such-command"}, icmd.Expected{ExitCode: 127, Err: "minibox: exec no-such-command: executable file not found in $PATH"}},
		{"not executable", []string{"/etc/passwd"}, icmd.Expected{ExitCode: 126, Err: "minibox: exec /etc/passwd: permission denied"}},
		{"killed by SIGKILL", []string{probe(t), "kill-self", "KILL"}, icmd.Expected{ExitCode: 137}},
		{"killed by SIGTERM", []string{probe(t), "kill-self", "TERM"}, icmd.Expected{ExitCode: 143}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := minibox(t, tc.args...)
			res.Assert(t, tc.want)
		})
	}
}

// TestMisuse: every misuse prints one line and exits 125, leaving nothing.
func TestMisuse(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		dir  string // working directory, if not the test's
		as   uint32 // run as this uid, if not 0
		err  string
	}{
		{name: "no verb", args: nil, err: "minibox: no command given; usage: minibox run"},
		{name: "unknown verb", args: []string{"start", "sh"}, err: `minibox: unknown command "start"`},
		{name: "no command", args: []string{"run"}, err: "minibox: run: no command given"},
		{name: "unknown flag", args: []string{"run", "--net", "host", "sh"}, err: "minibox: run: flag provided but not defined: -net"},
		{name: "a flag of a later step", args: []string{"run", "--hostname", "box", "sh"}, err: "minibox: run: flag provided but not defined: -hostname"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := icmd.Command(bin, tc.args...)
			if tc.as != 0 {
				// setpriv(1) execs minibox as another user, keeping the PID.
				setpriv, err := exec.LookPath("setpriv")
				skip.If(t, err != nil, "needs setpriv(1) to run as uid %d", tc.as)
				skip.If(t, !worldExecutable(bin), "%s is not executable by uid %d", bin, tc.as)
				id := strconv.Itoa(int(tc.as))
				cmd = icmd.Command(setpriv, append([]string{"--reuid", id, "--regid", id, "--clear-groups", bin}, tc.args...)...)
			}
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
	for _, tc := range []struct {
		name string
		args []string
		want config
		err  string
	}{
		{name: "command only", args: []string{"sh"},
			want: config{cmd: []string{"sh"}}},
		{name: "flags end at the command", args: []string{"sh", "-c", "echo"},
			want: config{cmd: []string{"sh", "-c", "echo"}}},
		{name: "no command", args: []string{}, err: "run: no command given"},
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

// mounts lists the host's mounts a run could leave behind (CONTRIBUTING.md:
// only objects of ours, as other tests may mount things meanwhile): mounts
// on /proc, where this step mounts.
func mounts(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	assert.NilError(t, err)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		_, after, _ := strings.Cut(line, " - ")
		fstype, _, _ := strings.Cut(after, " ")
		mp, m := f[4], f[4]+" "+fstype
		if mp == "/proc" {
			out = append(out, m)
		}
	}
	return out
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
