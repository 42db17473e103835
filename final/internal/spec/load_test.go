package spec

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

func TestLoad(t *testing.T) {
	good, err := os.ReadFile("testdata/containerd-config.json")
	assert.NilError(t, err)
	for _, tc := range []struct {
		name   string
		config string // "" = no config.json at all
		want   string
	}{
		{"valid", string(good), ""},
		{"missing", "", "no config.json (write one with `minibox spec`)"},
		{"not json", "{", "parse: unexpected EOF"},
		{"unknown field", `{"ociVersion":"1.0.2","flying":true}`, `parse: json: unknown field "flying"`},
		{"invalid", `{"ociVersion":"1.0.2"}`, "root.path: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.config != "" {
				assert.NilError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.config), 0o644))
			}
			s, err := Load(dir)
			if tc.want == "" {
				assert.NilError(t, err)
				assert.Equal(t, s.Process.Args[0], "/bin/echo")
				return
			}
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestLoadProcess(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "process.json")
	assert.NilError(t, os.WriteFile(p, []byte(`{"args":["/bin/hostname"],"cwd":"/","user":{"uid":0,"gid":0}}`), 0o644))
	proc, err := LoadProcess(p)
	assert.NilError(t, err)
	assert.DeepEqual(t, proc.Args, []string{"/bin/hostname"})

	assert.NilError(t, os.WriteFile(p, []byte(`{"args":[],"cwd":"/"}`), 0o644))
	_, err = LoadProcess(p)
	assert.ErrorContains(t, err, "process.args: must name the program to run")

	_, err = LoadProcess(filepath.Join(dir, "nope.json"))
	assert.ErrorContains(t, err, "no such file or directory")
}
