package labtest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/icmd"
	"gotest.tools/v3/skip"
)

// workspace is the folder holding go.work above the working directory.
func workspace(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	assert.NilError(t, err)
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		if dir == filepath.Dir(dir) {
			t.Fatal("no go.work above the working directory")
		}
	}
}

// A hint is one line of scripts/lab-hints.tsv.
type hint struct {
	step, check, layer string
}

// matches reports whether the table line h names check c: the same name,
// or a prefix ending in '*'.
func (h hint) matches(c string) bool {
	if p, ok := strings.CutSuffix(h.check, "*"); ok {
		return strings.HasPrefix(c, p)
	}
	return h.check == c
}

func readHints(t *testing.T, repo string) []hint {
	t.Helper()
	f, err := os.Open(filepath.Join(repo, "scripts", "lab-hints.tsv"))
	assert.NilError(t, err)
	defer f.Close()
	var hints []hint
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "step\t") {
			continue
		}
		cols := strings.Split(line, "\t")
		assert.Equal(t, len(cols), 4, "lab-hints.tsv: want step, check, layer, hint: %q", line)
		// No third kind: a test of an earlier step's behaviour that a
		// fresh lab cannot pass (it needs what the new layer adds) is a
		// test to fix, not a check to excuse.
		assert.Assert(t, slices.Contains([]string{"new", "old"}, cols[2]), "lab-hints.tsv: %s %s: layer %q: want new or old", cols[0], cols[1], cols[2])
		hints = append(hints, hint{cols[0], cols[1], cols[2]})
	}
	assert.NilError(t, sc.Err())
	return hints
}

// layer is the table's layer for check c of step ("" if unlisted): the
// first matching line wins, as in scripts/lab.
func layer(hints []hint, step, c string) string {
	for _, h := range hints {
		if h.step == step && h.matches(c) {
			return h.layer
		}
	}
	return ""
}

var checkLine = regexp.MustCompile(`^(PASS|FAIL|SKIP)  (\S+)`)

// check runs `scripts/lab check n` and returns each check's status.
func check(t *testing.T, repo string, env []string, n string, exit int) map[string]string {
	t.Helper()
	res := icmd.RunCmd(icmd.Command(filepath.Join(repo, "scripts", "lab"), "check", n),
		icmd.WithEnv(env...), icmd.WithTimeout(20*time.Minute))
	res.Assert(t, icmd.Expected{ExitCode: exit})
	got := map[string]string{}
	for _, line := range strings.Split(res.Stdout(), "\n") {
		if m := checkLine.FindStringSubmatch(line); m != nil {
			got[m[2]] = m[1]
		}
	}
	assert.Assert(t, len(got) > 0, "no check in the output:\n%s", res.Combined())
	t.Logf("scripts/lab check %s:\n%s", n, res.Stdout())
	return got
}

func TestLabs(t *testing.T) {
	skip.If(t, os.Geteuid() != 0, "needs root: sudo scripts/test")
	repo := workspace(t)
	rootfs := os.Getenv("MINIBOX_ROOTFS")
	if rootfs == "" {
		rootfs = filepath.Join(repo, "rootfs")
	}
	if _, err := os.Stat(filepath.Join(rootfs, "bin", "probe")); err != nil {
		t.Fatalf("no rootfs at %s: run scripts/rootfs", rootfs)
	}
	hints := readHints(t, repo)
	steps, err := filepath.Glob(filepath.Join(repo, "steps", "0*"))
	assert.NilError(t, err)
	for i, dir := range steps[1:] {
		step, prev := filepath.Base(dir), filepath.Base(steps[i])
		n := strings.TrimPrefix(step[:2], "0") // lab 3 is labs/3, for steps/03-proc
		t.Run("lab "+n, func(t *testing.T) {
			labs := t.TempDir()
			env := append(os.Environ(), "MINIBOX_LABS="+labs, "MINIBOX_ROOTFS="+rootfs)
			lab := filepath.Join(labs, n)
			script := filepath.Join(repo, "scripts", "lab")
			icmd.RunCmd(icmd.Command(script, "start", n), icmd.WithEnv(env...)).Assert(t, icmd.Success)
			assertSame(t, filepath.Join(lab, "main.go"), filepath.Join(repo, "steps", prev, "main.go"))
			assertSame(t, filepath.Join(lab, "main_test.go"), filepath.Join(dir, "main_test.go"))
			icmd.RunCmd(icmd.Command(script, "start", n), icmd.WithEnv(env...)).Assert(t, icmd.Expected{ExitCode: 2, Err: "exists"})

			// Fresh: the new layer's checks fail, every other one passes.
			fresh := check(t, repo, env, n, 1)
			newFails := 0
			for c, st := range fresh {
				l := layer(hints, step, c)
				switch {
				case st == "FAIL" && l == "":
					t.Errorf("%s fails on a fresh lab %s but scripts/lab-hints.tsv has no line for it", c, n)
				case st == "FAIL" && l == "old":
					t.Errorf("%s fails on a fresh lab %s, yet scripts/lab-hints.tsv calls it old (an earlier step's)", c, n)
				case st == "PASS" && l == "new":
					t.Errorf("%s passes on a fresh lab %s, yet scripts/lab-hints.tsv calls it %s", c, n, l)
				case st == "FAIL" && l == "new":
					newFails++
				}
			}
			assert.Assert(t, newFails > 0, "a fresh lab %s fails no check of the new layer", n)
			// Each named new check exists (manifest rows show
			// only when the manifest got as far as comparing them).
			for _, h := range hints {
				if h.step != step || h.layer == "old" || strings.HasSuffix(h.check, "*") || strings.HasPrefix(h.check, "TestManifest/") {
					continue
				}
				assert.Check(t, has(fresh, h.check), "scripts/lab-hints.tsv lists %s for %s, but lab %s has no such check", h.check, step, n)
			}

			// Solved: with step N's own main.go, every check passes.
			copyFile(t, filepath.Join(dir, "main.go"), filepath.Join(lab, "main.go"))
			solved := check(t, repo, env, n, 0)
			for c, st := range solved {
				assert.Check(t, st != "FAIL", "%s fails with the reference main.go of %s", c, step)
			}
			for c := range fresh {
				if !strings.HasPrefix(c, "TestManifest/") {
					assert.Check(t, has(solved, c) || hasSubtests(solved, c), "%s is a check of the fresh lab but not of the solved one", c)
				}
			}

			// solution shows the diff to the reference; reset goes back
			// to the start and keeps the student's main.go.
			res := icmd.RunCmd(icmd.Command(script, "solution", n), icmd.WithEnv(env...))
			res.Assert(t, icmd.Success)
			assert.Equal(t, res.Stdout(), "", "the solved lab's main.go is the reference")
			icmd.RunCmd(icmd.Command(script, "reset", n), icmd.WithEnv(env...)).Assert(t, icmd.Success)
			assertSame(t, filepath.Join(lab, "main.go"), filepath.Join(repo, "steps", prev, "main.go"))
			assertSame(t, filepath.Join(lab, "main.go.before-reset"), filepath.Join(dir, "main.go"))
			res = icmd.RunCmd(icmd.Command(script, "solution", n), icmd.WithEnv(env...))
			res.Assert(t, icmd.Expected{Out: "+++ steps/" + step + "/main.go (reference)"})
		})
	}
}

func TestMisuse(t *testing.T) {
	repo := workspace(t)
	script := filepath.Join(repo, "scripts", "lab")
	env := append(os.Environ(), "MINIBOX_LABS="+t.TempDir())
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"no verb", nil, "usage: scripts/lab start N"},
		{"unknown verb", []string{"grade", "3"}, "scripts/lab: unknown command 'grade'"},
		{"no number", []string{"start"}, "scripts/lab: start needs one lab number (2..5)"},
		{"no such step", []string{"start", "9"}, "scripts/lab: no step '9': labs are 2..5"},
		{"lab 1", []string{"start", "1"}, "scripts/lab: there is no lab 1"},
		{"not started", []string{"reset", "03"}, "scripts/lab: no lab 3 yet: scripts/lab start 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			icmd.RunCmd(icmd.Command(script, tc.args...), icmd.WithEnv(env...)).
				Assert(t, icmd.Expected{ExitCode: 2, Err: tc.err})
		})
	}
}

// has reports whether checks has c, or c's parent test (a test that did
// not compile against the starting code is one check, its subtests none).
func has(checks map[string]string, c string) bool {
	if _, ok := checks[c]; ok {
		return true
	}
	parent, _, ok := strings.Cut(c, "/")
	_, found := checks[parent]
	return ok && found
}

// hasSubtests reports whether checks has a subtest of test.
func hasSubtests(checks map[string]string, test string) bool {
	for c := range checks {
		if strings.HasPrefix(c, test+"/") {
			return true
		}
	}
	return false
}

func assertSame(t *testing.T, got, want string) {
	t.Helper()
	g, err := os.ReadFile(got)
	assert.NilError(t, err)
	w, err := os.ReadFile(want)
	assert.NilError(t, err)
	assert.Assert(t, string(g) == string(w), "%s differs from %s", got, want)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(to, b, 0o644))
}
