package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"

	"minibox.dev/final/internal/spec"
)

// TestParseRunArgs: docker's flag spellings → RunOptions.
func TestParseRunArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want runFlags
	}{
		{"command only", []string{"sh", "-c", "x"}, runFlags{opts: spec.RunOptions{Args: []string{"sh", "-c", "x"}}}},
		{"combined shorts", []string{"-it", "sh"}, runFlags{opts: spec.RunOptions{TTY: true, Interactive: true, Args: []string{"sh"}}}},
		{"value forms", []string{"-m", "32m", "--memory-swap=64m", "-e", "A=1", "-eB=2", "--env", "C", "sh"}, runFlags{
			opts:     spec.RunOptions{Memory: 32 << 20, MemorySwap: 64 << 20, Env: []string{"A=1", "B=2"}, Args: []string{"sh"}},
			envNames: []string{"C"},
		}},
		{"every flag", []string{"--rootfs", "/r", "--name", "n1", "-w", "/w", "-u", "1:2", "-h", "host",
			"--read-only", "--cpus", "0.5", "-c", "100", "--cpuset-cpus", "0", "--pids-limit", "9",
			"--ulimit", "nofile=1:2", "--network", "host", "--userns", "--init", "--rm", "--", "-x"}, runFlags{
			rootfs: "/r", name: "n1", user: "1:2",
			opts: spec.RunOptions{Workdir: "/w", Hostname: "host", ReadOnly: true, CPUs: 0.5, CPUShares: 100,
				CpusetCPUs: "0", PidsLimit: 9, Ulimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}},
				Network: "host", UserNS: true, Init: true, Args: []string{"-x"}},
		}},
		{"flags stop at the command", []string{"sh", "-m", "1"}, runFlags{opts: spec.RunOptions{Args: []string{"sh", "-m", "1"}}}},
		{"unlimited swap", []string{"-m", "8m", "--memory-swap", "-1", "sh"}, runFlags{opts: spec.RunOptions{Memory: 8 << 20, MemorySwap: -1, Args: []string{"sh"}}}},
		{"single-dash long names, as in the steps", []string{"-memory", "32m", "-pids-limit=5", "-hostname", "h", "-it", "sh"}, runFlags{
			opts: spec.RunOptions{Memory: 32 << 20, PidsLimit: 5, Hostname: "h", TTY: true, Interactive: true, Args: []string{"sh"}},
		}},
		{"bool with =true", []string{"--tty=true", "--interactive=false", "sh"}, runFlags{opts: spec.RunOptions{TTY: true, Args: []string{"sh"}}}},
		{"help", []string{"--help"}, runFlags{help: true, opts: spec.RunOptions{Args: []string{}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRunArgs(tc.args)
			assert.NilError(t, err)
			if d := cmp.Diff(tc.want, *got, cmp.AllowUnexported(runFlags{})); d != "" {
				t.Errorf("-want +got:\n%s", d)
			}
		})
	}
}

func TestParseRunArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{nil, "no command given"},
		{[]string{"-m"}, "-m needs a value"},
		{[]string{"--memory", "x", "sh"}, `--memory: "x" is not a size`},
		{[]string{"--memory", "0", "sh"}, `--memory: "0" must be more than 0`},
		{[]string{"--nope", "sh"}, "unknown flag --nope"},
		{[]string{"-itZ", "sh"}, "unknown flag -Z"},
		{[]string{"--rm=yes", "sh"}, "--rm takes no value"},
		{[]string{"--network", "bridge", "sh"}, `--network "bridge": want none or host`},
		{[]string{"--name", "-bad", "sh"}, `--name: container id "-bad"`},
		{[]string{"-w", "rel", "sh"}, `--workdir "rel": must be an absolute path`},
		{[]string{"--pids-limit", "-3", "sh"}, `--pids-limit "-3": want a positive number`},
		{[]string{"--cpus", "0", "sh"}, `--cpus "0"`},
		{[]string{"-c", "1", "sh"}, `--cpu-shares "1"`},
		{[]string{"--ulimit", "x=1", "sh"}, `--ulimit "x=1"`},
		{[]string{"-h", "", "sh"}, `--hostname ""`},
		{[]string{"-e", "=1", "sh"}, `--env "=1": want KEY=VALUE`},
	} {
		_, err := parseRunArgs(tc.args)
		assert.Check(t, err != nil && err.Error() != "" && contains(err.Error(), tc.err), "%v: got %v, want %q", tc.args, err, tc.err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestIsBundleRun(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--bundle", "b", "id"}, true},
		{[]string{"-b", "b", "id"}, true},
		{[]string{"--detach", "id"}, true},
		{[]string{"-d", "id"}, true},
		{[]string{"--pid-file=p", "id"}, true},
		{[]string{"-it", "sh"}, false},
		{[]string{"-m", "32m", "sh"}, false},
		{[]string{"sh", "--bundle"}, false},
		{[]string{"--", "--bundle"}, false},
	} {
		assert.Check(t, isBundleRun(tc.args) == tc.want, "%v: want %v", tc.args, tc.want)
	}
}

func TestResolveUser(t *testing.T) {
	dir := t.TempDir()
	writeRunFile(t, dir+"/etc/passwd", "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\napp:x:1000:1001::/:/bin/sh\n")
	writeRunFile(t, dir+"/etc/group", "root:x:0:\nstaff:x:50:\n")
	for _, tc := range []struct {
		in       string
		uid, gid uint32
		err      string
	}{
		{"0", 0, 0, ""}, {"nobody", 65534, 65534, ""}, {"app", 1000, 1001, ""},
		{"1000", 1000, 1001, ""}, {"app:staff", 1000, 50, ""}, {"7:8", 7, 8, ""},
		{"ghost", 0, 0, `user "ghost": not a number`}, {"0:ghosts", 0, 0, `group "ghosts": not a number`},
	} {
		uid, gid, err := resolveUser(dir, tc.in)
		if tc.err != "" {
			assert.Check(t, err != nil && contains(err.Error(), tc.err), "%q: %v", tc.in, err)
			continue
		}
		assert.Check(t, err == nil && uid == tc.uid && gid == tc.gid, "%q: got %d:%d %v", tc.in, uid, gid, err)
	}
}

func writeRunFile(t *testing.T, path, data string) {
	t.Helper()
	assert.NilError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	assert.NilError(t, os.WriteFile(path, []byte(data), 0o644))
}
