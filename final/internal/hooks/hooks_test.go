package hooks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hook     specs.Hook
		wantArgs []string
		wantEnv  []string
	}{
		{"path only", specs.Hook{Path: "/bin/true"}, []string{"/bin/true"}, []string{}},
		{"args give argv0", specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "exit 0"}},
			[]string{"sh", "-c", "exit 0"}, []string{}},
		{"env is exactly the config's", specs.Hook{Path: "/bin/env", Env: []string{"A=1"}},
			[]string{"/bin/env"}, []string{"A=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := Command(context.Background(), tc.hook)
			assert.Equal(t, cmd.Path, tc.hook.Path)
			assert.DeepEqual(t, cmd.Args, tc.wantArgs)
			assert.DeepEqual(t, cmd.Env, tc.wantEnv)
		})
	}
}

func TestFatal(t *testing.T) {
	for k, want := range map[Kind]bool{
		Prestart: true, CreateRuntime: true, CreateContainer: true,
		StartContainer: true, Poststart: false, Poststop: false,
	} {
		assert.Equal(t, k.Fatal(), want, "%s", k)
	}
}

func TestOf(t *testing.T) {
	h := &specs.Hooks{
		Prestart:        []specs.Hook{{Path: "/p"}},
		CreateRuntime:   []specs.Hook{{Path: "/cr"}},
		CreateContainer: []specs.Hook{{Path: "/cc"}},
		StartContainer:  []specs.Hook{{Path: "/sc"}},
		Poststart:       []specs.Hook{{Path: "/ps"}},
		Poststop:        []specs.Hook{{Path: "/pt"}},
	}
	for k, want := range map[Kind]string{
		Prestart: "/p", CreateRuntime: "/cr", CreateContainer: "/cc",
		StartContainer: "/sc", Poststart: "/ps", Poststop: "/pt",
	} {
		got := Of(h, k)
		assert.Assert(t, is.Len(got, 1), "%s", k)
		assert.Equal(t, got[0].Path, want)
	}
	assert.Assert(t, is.Nil(Of(nil, Poststop)))
}

// The hooks below run /bin/sh, which every Linux host has; no root needed.

func TestRunPassesStateOnStdinInOrder(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	state := &specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreated,
		Pid: 42, Bundle: "/b", Annotations: map[string]string{"k": "v"}}
	hook := func(tag string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c",
			`printf '%s ' "$TAG" >> "$OUT"; cat >> "$OUT"; echo >> "$OUT"`},
			Env: []string{"OUT=" + out, "TAG=" + tag}}
	}
	err := Run(context.Background(), CreateRuntime, []specs.Hook{hook("first"), hook("second")}, state)
	assert.NilError(t, err)

	data, err := os.ReadFile(out)
	assert.NilError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	assert.Assert(t, is.Len(lines, 2))
	for i, tag := range []string{"first", "second"} {
		got, ok := strings.CutPrefix(lines[i], tag+" ")
		assert.Assert(t, ok, "line %d: %q", i, lines[i])
		var decoded specs.State
		assert.NilError(t, json.Unmarshal([]byte(got), &decoded))
		assert.DeepEqual(t, decoded, *state)
	}
}

func TestRunErrors(t *testing.T) {
	zero, one := 0, 1
	for _, tc := range []struct {
		name  string
		hooks []specs.Hook
		want  string
	}{
		{"exit status and output", []specs.Hook{
			{Path: "/bin/sh", Args: []string{"sh", "-c", "exit 0"}},
			{Path: "/bin/sh", Args: []string{"sh", "-c", "echo broken >&2; exit 3"}},
		}, "createContainer hook #1 (/bin/sh): exit status 3: broken"},
		{"missing program", []specs.Hook{{Path: "/nonexistent/hook"}},
			"createContainer hook #0 (/nonexistent/hook): fork/exec /nonexistent/hook: no such file or directory"},
		{"timeout", []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 30"}, Timeout: &one}},
			"createContainer hook #0 (/bin/sh): timed out after 1s"},
		{"zero timeout", []specs.Hook{{Path: "/bin/true", Timeout: &zero}},
			"createContainer hook #0 (/bin/true): timeout must be positive, got 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Run(context.Background(), CreateContainer, tc.hooks, &specs.State{ID: "c"})
			assert.Error(t, err, tc.want)
		})
	}
}

func TestRunStopsAtFirstFailure(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	err := Run(context.Background(), Poststop, []specs.Hook{
		{Path: "/bin/false"},
		{Path: "/bin/touch", Args: []string{"touch", marker}},
	}, &specs.State{ID: "c"})
	assert.ErrorContains(t, err, "poststop hook #0 (/bin/false): exit status 1")
	_, statErr := os.Stat(marker)
	assert.Assert(t, os.IsNotExist(statErr), "the second hook ran after the first failed")
}
