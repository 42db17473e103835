// Black-box tests of the minibox binary, run as root. Shared by the `run`
// tests (run_test.go, isolation_test.go, escape_test.go, faults_test.go)
// and the OCI verb tests: one TestMain, one set of helpers.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/icmd"
	"gotest.tools/v3/skip"
)

// bin is the minibox binary under test: $MINIBOX_BIN, or built once here.
var bin string

func TestMain(m *testing.M) {
	// A test binary re-exec'd as a container's init must act as one.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		main()
	}
	bin = os.Getenv("MINIBOX_BIN")
	if bin == "" {
		dir, err := os.MkdirTemp("", "minibox-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		bin = filepath.Join(dir, "minibox")
		// Built once for every test: `go` is needed only here, never when
		// MINIBOX_BIN is set (the cgroup v2 VM has no toolchain).
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			os.Exit(1)
		}
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// needRoot skips a test that needs root.
func needRoot(t *testing.T) {
	t.Helper()
	skip.If(t, os.Geteuid() != 0, "needs root: sudo scripts/test")
}

// rootfsDir is $MINIBOX_ROOTFS or the workspace's rootfs/.
func rootfsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MINIBOX_ROOTFS")
	if dir == "" {
		wd, err := os.Getwd()
		assert.NilError(t, err)
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
				dir = filepath.Join(d, "rootfs")
				break
			}
			if d == "/" {
				t.Fatalf("no go.work above %s: set MINIBOX_ROOTFS", wd)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "probe")); err != nil {
		t.Fatalf("no rootfs at %s: run scripts/rootfs", dir)
	}
	return dir
}

// box is one test's view of minibox: its own state root and container
// names, so leak checks look only at what this test could create.
type box struct {
	t      *testing.T
	root   string // --root
	rootfs string
	prefix string // container names start with it
	n      int
}

// newBox skips without root, and checks at cleanup that the test left
// nothing: no state, no cgroup named after its containers, no mount or
// network link added, the rootfs unchanged.
func newBox(t *testing.T) *box {
	t.Helper()
	needRoot(t)
	b := &box{t: t, root: t.TempDir(), rootfs: rootfsDir(t)}
	// With --userns the container's root (host uid 100000) must reach
	// the overlay dirs in the state root: t.TempDir() is 0700.
	assert.NilError(t, os.Chmod(b.root, 0o711))
	assert.NilError(t, os.Chmod(filepath.Dir(b.root), 0o711))
	b.prefix = boxPrefix(t.Name(), os.Getpid())
	before := snapshot(t, b)
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		after := snapshot(t, b)
		assert.DeepEqual(t, before, after)
	})
	return b
}

// boxPrefix starts the container names of one test in one test process:
// a hash of the test's name (names may hold characters an ID may not)
// and the process's pid, so two runs of the same test at once (two
// checkouts, or `go test` twice) never share a container name and the
// cgroup path /minibox/NAME that comes with it.
func boxPrefix(test string, pid int) string {
	return fmt.Sprintf("t%x", sha256.Sum256([]byte(test)))[:9] + fmt.Sprintf("-%d-", pid)
}

// name returns a fresh container name for this test.
func (b *box) name() string {
	b.n++
	return fmt.Sprintf("%s%d", b.prefix, b.n)
}

// cmd is `minibox --root R run --rootfs ROOTFS ARGS...`.
func (b *box) cmd(args ...string) icmd.Cmd {
	full := append([]string{"--root", b.root, "run", "--rootfs", b.rootfs}, args...)
	return icmd.Command(bin, full...)
}

// run runs a container to its end.
func (b *box) run(args ...string) *icmd.Result {
	b.t.Helper()
	return icmd.RunCmd(b.cmd(args...))
}

// probe runs the probe report with flags and parses it.
func (b *box) probe(flags ...string) map[string]string {
	b.t.Helper()
	r := b.run(append(flags, "/bin/probe")...)
	r.Assert(b.t, icmd.Success)
	return parseProbe(r.Stdout())
}

func parseProbe(out string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}

// hostState is what a test may change on the host, restricted to objects
// it could have created.
type hostState struct {
	StateEntries []string // entries under the test's --root
	Cgroups      []string // cgroup dirs named with the test's prefix
	Mounts       []string // host mounts below the state root or the rootfs
	Links        []string // network interfaces
	Rootfs       string   // hash of the rootfs tree (names, sizes, modes, times)
}

func snapshot(t *testing.T, b *box) hostState {
	t.Helper()
	var s hostState
	ents, _ := os.ReadDir(b.root)
	for _, e := range ents {
		s.StateEntries = append(s.StateEntries, e.Name())
	}
	for _, dir := range cgroupParents() {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), b.prefix) {
				s.Cgroups = append(s.Cgroups, filepath.Join(dir, e.Name()))
			}
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	assert.NilError(t, err)
	for _, line := range strings.Split(string(mi), "\n") {
		_, post, ok := strings.Cut(line, " - ")
		f := strings.Fields(line)
		if !ok || len(f) < 5 {
			continue
		}
		// Every mount a container makes has its target below the state
		// root (the overlay's merged dir) or the rootfs (--read-only): a
		// leak to the host shows up there. Mounts elsewhere belong to
		// others (tests of other packages run at the same time).
		typ := strings.Fields(post)[0]
		if strings.HasPrefix(f[4], b.root) || strings.HasPrefix(f[4], b.rootfs) {
			s.Mounts = append(s.Mounts, f[4]+" "+typ)
		}
	}
	sort.Strings(s.Mounts)
	links, _ := os.ReadDir("/sys/class/net")
	for _, l := range links {
		s.Links = append(s.Links, l.Name())
	}
	s.Rootfs = treeHash(t, b.rootfs)
	return s
}

// cgroupParents are the /minibox directories of every hierarchy.
func cgroupParents() []string {
	if st, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil && !st.IsDir() {
		return []string{"/sys/fs/cgroup/minibox"}
	}
	var out []string
	for _, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer"} {
		out = append(out, filepath.Join("/sys/fs/cgroup", c, "minibox"))
	}
	return out
}

func treeHash(t *testing.T, root string) string {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d %v %d\n", p, fi.Size(), fi.Mode(), fi.ModTime().UnixNano())
		return nil
	})
	assert.NilError(t, err)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// cgroupV2 reports whether the host is cgroup v2 only.
func cgroupV2() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}

// needV2 skips a test that needs a cgroup v2 host.
func needV2(t *testing.T) {
	t.Helper()
	skip.If(t, !cgroupV2(), "needs cgroup v2 (this host is hybrid v1): run scripts/vmtest")
}

// waitOutput waits until a started command has printed want.
func waitOutput(t *testing.T, c *icmd.Result, want string) {
	t.Helper()
	for range 1000 {
		if strings.Contains(c.Stdout(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %q in output after 10s: %s", want, c.Combined())
}

// pid reads container name's host PID from its state.json.
func (b *box) pid(name string) string {
	b.t.Helper()
	data, err := os.ReadFile(filepath.Join(b.root, name, "state.json"))
	assert.NilError(b.t, err)
	var st struct {
		Pid int `json:"pid"`
	}
	assert.NilError(b.t, json.Unmarshal(data, &st))
	assert.Assert(b.t, st.Pid > 0)
	return strconv.Itoa(st.Pid)
}

// TestBoxPrefix: the same test in two test processes gets different
// container names (and so different cgroups); one process keeps one.
func TestBoxPrefix(t *testing.T) {
	a, b := boxPrefix("TestX/sub", 100), boxPrefix("TestX/sub", 101)
	assert.Assert(t, a != b, "same prefix %q for two processes", a)
	assert.Equal(t, a, boxPrefix("TestX/sub", 100))
	assert.Assert(t, boxPrefix("TestY", 100) != a)
	assert.Equal(t, a, "t"+fmt.Sprintf("%x", sha256.Sum256([]byte("TestX/sub")))[:8]+"-100-")
}
