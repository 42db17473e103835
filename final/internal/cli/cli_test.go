package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"minibox.dev/final/internal/spec"
)

// runCLI runs the command line in-process, as Main does, with a state
// root of its own.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"minibox", "--root", t.TempDir()}, args...)
	code = run(full, &out, &errb)
	return code, out.String(), errb.String()
}

// These fail before any container is touched: no root needed.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "minibox: no command given (see minibox --help)"},
		{[]string{"frobnicate"}, `minibox: unknown command "frobnicate" (see minibox --help)`},
		{[]string{"--bogus", "list"}, "minibox: unknown flag -bogus (see minibox --help)"},
		{[]string{"--log-format", "xml", "list"}, `minibox: --log-format "xml": want text or json (see minibox --help)`},
		{[]string{"--systemd-cgroup", "list"}, "minibox: --systemd-cgroup: not supported"},
		{[]string{"start"}, "minibox: start: missing container ID (see minibox start --help)"},
		{[]string{"start", "a", "b"}, `minibox: start: unexpected argument "b" (want ID) (see minibox start --help)`},
		{[]string{"kill"}, "minibox: kill: missing container ID"},
		{[]string{"kill", "c1", "SIGFOO"}, `minibox: kill: unknown signal "SIGFOO"`},
		{[]string{"kill", "c1", "9", "extra"}, `minibox: kill: unexpected argument "extra"`},
		{[]string{"delete", "--forse", "c1"}, "minibox: delete: unknown flag -forse"},
		{[]string{"list", "--format", "xml"}, `minibox: list: --format "xml": want table or json`},
		{[]string{"ps", "--format", "xml", "c1"}, `minibox: ps: --format "xml": want table or json`},
		{[]string{"state", "nosuch"}, "minibox: container nosuch: container does not exist"},
		{[]string{"state", "../etc"}, `minibox: container id "../etc"`},
		{[]string{"create", "--bundle", "/nonexistent", "c1"}, "minibox: bundle /nonexistent: no config.json"},
		{[]string{"exec", "c1"}, "minibox: container c1: container does not exist"},
		{[]string{"exec-init"}, "minibox: exec-init: want SYNCFD"},
		{[]string{"features", "extra"}, `minibox: features: unexpected argument "extra"`},
		{[]string{"create", "--preserve-fds", "2", "c1"}, "minibox: --preserve-fds: not supported"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			assert.Equal(t, code, 125)
			assert.Assert(t, is.Contains(stderr, tc.want))
			assert.Equal(t, strings.Count(stderr, "\n"), 1, "one line: %q", stderr)
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := runCLI(t, "--version")
	assert.Equal(t, code, 0)
	assert.Equal(t, out, "minibox version "+Version+"\nspec: "+specs.Version+"\n")

	code, out, _ = runCLI(t, "--help")
	assert.Equal(t, code, 0)
	for _, c := range commands() {
		assert.Check(t, strings.Contains(out, "  "+c.Name+" ") != c.Hidden, "%s (hidden %v)", c.Name, c.Hidden)
	}
	code, out, _ = runCLI(t, "exec", "--help")
	assert.Equal(t, code, 0)
	for _, f := range []string{"--process", "--detach", "--pid-file", "--tty", "--console-socket", "--cwd", "--env", "--user"} {
		assert.Check(t, is.Contains(out, f))
	}
}

// A relative --root means the same directory whatever the caller's
// working directory is later.
func TestRelativeRoot(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var out, errb bytes.Buffer
	g := &Global{stdout: &out, stderr: &errb}
	assert.NilError(t, g.dispatch([]string{"--root", "state", "list"}))
	assert.Equal(t, g.Root, filepath.Join(dir, "state"))
}

func TestListEmpty(t *testing.T) {
	code, out, _ := runCLI(t, "list", "--format", "json")
	assert.Equal(t, code, 0)
	assert.Equal(t, out, "[]\n")
	code, out, _ = runCLI(t, "list")
	assert.Equal(t, code, 0)
	assert.Equal(t, out, "ID  PID  STATUS  BUNDLE  CREATED\n")
}

func TestDeleteForceUnknown(t *testing.T) {
	code, _, stderr := runCLI(t, "delete", "--force", "nosuch")
	assert.Equal(t, code, 0, stderr)
}

func TestSpecWritesAValidConfig(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "spec", "--bundle", dir)
	assert.Equal(t, code, 0, stderr)
	s, err := spec.Load(dir)
	assert.NilError(t, err)
	assert.DeepEqual(t, s, spec.Default())
	code, _, stderr = runCLI(t, "spec", "-b", dir)
	assert.Equal(t, code, 125)
	assert.Assert(t, is.Contains(stderr, "config.json already exists: remove it first"))
}

func TestLogger(t *testing.T) {
	at := time.Date(2026, 11, 30, 4, 5, 6, 7, time.UTC)
	for _, tc := range []struct {
		json, debug bool
		want        string
	}{
		{true, false, `{"level":"error","msg":"boom \"x\"","time":"2026-11-30T04:05:06.000000007Z"}` + "\n" +
			`{"level":"warning","msg":"careful","time":"2026-11-30T04:05:06.000000007Z"}` + "\n"},
		{false, true, `time="2026-11-30T04:05:06.000000007Z" level=error msg="boom \"x\""` + "\n" +
			`time="2026-11-30T04:05:06.000000007Z" level=warning msg="careful"` + "\n" +
			`time="2026-11-30T04:05:06.000000007Z" level=debug msg="details"` + "\n"},
	} {
		var b bytes.Buffer
		l := &logger{w: &b, json: tc.json, debug: tc.debug, now: func() time.Time { return at }}
		l.Errorf("boom %q", "x")
		l.Warnf("careful")
		l.Debugf("details")
		assert.Equal(t, b.String(), tc.want)
	}
	var nilLogger *logger
	nilLogger.Errorf("no panic without --log") // a nil logger discards
}

// The --log file gets the error as a JSON line, as conmon and the
// containerd shim read it.
func TestLogFileGetsTheError(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log.json")
	code, _, _ := runCLI(t, "--log", log, "--log-format=json", "state", "nosuch")
	assert.Equal(t, code, 125)
	data, err := os.ReadFile(log)
	assert.NilError(t, err)
	var line map[string]string
	assert.NilError(t, json.Unmarshal(data, &line))
	assert.Equal(t, line["level"], "error")
	assert.Equal(t, line["msg"], "container nosuch: container does not exist")
}

// --debug logs each command line, so a client's calls can be followed.
func TestDebugLog(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	code, _, _ := runCLI(t, "--debug", "--log", log, "list", "-q")
	assert.Equal(t, code, 0)
	data, err := os.ReadFile(log)
	assert.NilError(t, err)
	assert.Assert(t, is.Contains(string(data), `level=debug msg="list -q"`))
}

func TestWritePidFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pid")
	assert.NilError(t, writePidFile(p, 4242))
	data, err := os.ReadFile(p)
	assert.NilError(t, err)
	assert.Equal(t, string(data), "4242", "the bare pid, no newline (runc writes it so)")
	ents, err := os.ReadDir(dir)
	assert.NilError(t, err)
	assert.Equal(t, len(ents), 1, "temporary file left behind")
	assert.ErrorContains(t, writePidFile(filepath.Join(dir, "no/such/dir/pid"), 1), "no such file or directory")
}

// execProcess is the config → process translation of exec: the
// container's process with the flags applied, or --process as given.
func TestExecProcess(t *testing.T) {
	umask := uint32(0o22)
	base := &specs.Spec{Process: &specs.Process{
		Args: []string{"/bin/sleep", "1000"}, Env: []string{"PATH=/bin", "A=1"}, Cwd: "/",
		User:            specs.User{UID: 0, GID: 0, Umask: &umask, AdditionalGids: []uint32{10}},
		Capabilities:    &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}},
		NoNewPrivileges: true,
		Terminal:        true,
		ConsoleSize:     &specs.Box{Height: 1, Width: 1},
	}}
	withBase := func(f func(p *specs.Process)) *specs.Process {
		p := *base.Process
		p.Terminal, p.ConsoleSize = false, nil
		f(&p)
		return &p
	}
	procFile := filepath.Join(t.TempDir(), "process.json")
	assert.NilError(t, os.WriteFile(procFile, []byte(`{"args":["/bin/ls"],"cwd":"/tmp","env":["X=1"]}`), 0o644))

	for _, tc := range []struct {
		name string
		opts execOpts
		want *specs.Process
		err  string
	}{
		{name: "command replaces args, keeps the rest", opts: execOpts{args: []string{"/bin/sh", "-c", "id"}},
			want: withBase(func(p *specs.Process) { p.Args = []string{"/bin/sh", "-c", "id"} })},
		{name: "env is added after the container's", opts: execOpts{args: []string{"env"}, env: multiFlag{"B=2", "A=3"}},
			want: withBase(func(p *specs.Process) {
				p.Args = []string{"env"}
				p.Env = []string{"PATH=/bin", "A=1", "B=2", "A=3"}
			})},
		{name: "cwd and tty", opts: execOpts{args: []string{"sh"}, cwd: "/etc", tty: true},
			want: withBase(func(p *specs.Process) { p.Args, p.Cwd, p.Terminal = []string{"sh"}, "/etc", true })},
		{name: "user replaces uid, gid and groups", opts: execOpts{args: []string{"id"}, user: "1000:1001"},
			want: withBase(func(p *specs.Process) {
				p.Args = []string{"id"}
				p.User = specs.User{UID: 1000, GID: 1001, Umask: &umask}
			})},
		{name: "user without group", opts: execOpts{args: []string{"id"}, user: "7"},
			want: withBase(func(p *specs.Process) {
				p.Args = []string{"id"}
				p.User = specs.User{UID: 7, Umask: &umask}
			})},
		{name: "process file", opts: execOpts{process: procFile},
			want: &specs.Process{Args: []string{"/bin/ls"}, Cwd: "/tmp", Env: []string{"X=1"}}},
		{name: "process file with --tty", opts: execOpts{process: procFile, tty: true},
			want: &specs.Process{Args: []string{"/bin/ls"}, Cwd: "/tmp", Env: []string{"X=1"}, Terminal: true}},
		{name: "both", opts: execOpts{process: procFile, args: []string{"ls"}}, err: "give either --process FILE or CMD, not both"},
		{name: "neither", opts: execOpts{}, err: "missing command to run (or --process FILE)"},
		{name: "bad user", opts: execOpts{args: []string{"id"}, user: "root"}, err: `--user "root": want UID[:GID] as numbers`},
		{name: "relative cwd", opts: execOpts{args: []string{"id"}, cwd: "tmp"}, err: `process.cwd "tmp": must be an absolute path`},
		{name: "bad env", opts: execOpts{args: []string{"id"}, env: multiFlag{"=x"}}, err: `want KEY=VALUE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := execProcess(base, &tc.opts)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
	// The container's own process is never modified.
	assert.DeepEqual(t, base.Process.Args, []string{"/bin/sleep", "1000"})
	assert.Assert(t, base.Process.Terminal)
}

// What `features` promises, Validate accepts.
func TestFeaturesAgreeWithValidate(t *testing.T) {
	f := Features()
	s := spec.Default()
	s.Linux.Namespaces = nil
	for _, n := range f.Linux.Namespaces {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.LinuxNamespaceType(n)})
	}
	s.Process.Capabilities.Bounding = f.Linux.Capabilities
	for _, a := range f.Linux.Seccomp.Actions {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.LinuxSeccompAction(a)}
		assert.NilError(t, spec.Validate(s), "seccomp action %s", a)
	}
	assert.Assert(t, !*f.Linux.Apparmor.Enabled)
	s.Process.ApparmorProfile = "x"
	assert.ErrorContains(t, spec.Validate(s), "process.apparmorProfile: not supported by minibox")
}
