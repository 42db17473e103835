package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// writeTree creates files (path → content) below a new temporary directory
// that stands in for /sys/fs/cgroup, and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const (
	v2Cgroup     = "0::/minibox/abc\n"
	hybridCgroup = `12:pids:/minibox/abc
11:cpu,cpuacct:/minibox/abc
4:memory:/minibox/abc
1:name=systemd:/user.slice
0::/user.slice
`
	v1Cgroup = `5:pids:/minibox/abc
3:cpu,cpuacct:/minibox/abc
2:memory:/minibox/abc
`
)

func TestParseCgroup(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []cgroupLine
	}{
		{"v2", v2Cgroup, []cgroupLine{{ID: "0", Path: "/minibox/abc"}}},
		{"v2 in a cgroup namespace", "0::/\n", []cgroupLine{{ID: "0", Path: "/"}}},
		{"hybrid", hybridCgroup, []cgroupLine{
			{ID: "12", Controllers: []string{"pids"}, Path: "/minibox/abc"},
			{ID: "11", Controllers: []string{"cpu", "cpuacct"}, Path: "/minibox/abc"},
			{ID: "4", Controllers: []string{"memory"}, Path: "/minibox/abc"},
			{ID: "1", Controllers: []string{"name=systemd"}, Path: "/user.slice"},
			{ID: "0", Path: "/user.slice"},
		}},
		{"colon in the path", "0::/a:b\n", []cgroupLine{{ID: "0", Path: "/a:b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCgroup(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseCgroup:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseCgroupRejects(t *testing.T) {
	for _, data := range []string{"", "garbage", "0::relative"} {
		if _, err := parseCgroup(data); err == nil {
			t.Errorf("parseCgroup(%q) succeeded, want an error", data)
		}
	}
}

// TestLimits reads memory_max, pids_max and cpu_max from fake cgroupfs
// trees of every layout.
func TestLimits(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		cgroup   string
		wantMem  string
		wantPids string
		wantCPU  string
	}{
		{
			name: "v2",
			files: map[string]string{
				"cgroup.controllers":         "cpuset cpu io memory pids\n",
				"minibox/abc/memory.max":     "33554432\n",
				"minibox/abc/pids.max":       "10\n",
				"minibox/abc/cpu.max":        "50000 100000\n",
				"minibox/abc/cgroup.procs":   "",
				"other/memory.max":           "1\n",
				"unified/cgroup.controllers": "",
			},
			cgroup:  v2Cgroup,
			wantMem: "33554432", wantPids: "10", wantCPU: "50000 100000",
		},
		{
			name: "v2 unlimited",
			files: map[string]string{
				"cgroup.controllers":     "cpu memory pids\n",
				"minibox/abc/memory.max": "max\n",
				"minibox/abc/pids.max":   "max\n",
				"minibox/abc/cpu.max":    "max 100000\n",
			},
			cgroup:  v2Cgroup,
			wantMem: "max", wantPids: "max", wantCPU: "max 100000",
		},
		{
			name: "v2 cgroup namespace shows its own cgroup at the top",
			files: map[string]string{
				"cgroup.controllers": "cpu memory pids\n",
				"memory.max":         "67108864\n",
				"pids.max":           "20\n",
				"cpu.max":            "25000 100000\n",
			},
			cgroup:  "0::/\n",
			wantMem: "67108864", wantPids: "20", wantCPU: "25000 100000",
		},
		{
			name:    "v2 real root cgroup has no limit files",
			files:   map[string]string{"cgroup.controllers": "cpu memory pids\n"},
			cgroup:  "0::/\n",
			wantMem: "max", wantPids: "max", wantCPU: "max",
		},
		{
			name: "v2 controller not enabled",
			files: map[string]string{
				"cgroup.controllers":     "memory\n",
				"minibox/abc/memory.max": "max\n",
			},
			cgroup:  v2Cgroup,
			wantMem: "max", wantPids: unavailable, wantCPU: unavailable,
		},
		{
			name: "v1",
			files: map[string]string{
				"memory/minibox/abc/memory.limit_in_bytes":  "33554432\n",
				"pids/minibox/abc/pids.max":                 "10\n",
				"cpu,cpuacct/minibox/abc/cpu.cfs_quota_us":  "50000\n",
				"cpu,cpuacct/minibox/abc/cpu.cfs_period_us": "100000\n",
			},
			cgroup:  v1Cgroup,
			wantMem: "33554432", wantPids: "10", wantCPU: "50000 100000",
		},
		{
			name: "v1 unlimited",
			files: map[string]string{
				"memory/minibox/abc/memory.limit_in_bytes": "9223372036854771712\n",
				"pids/minibox/abc/pids.max":                "max\n",
				"cpu/minibox/abc/cpu.cfs_quota_us":         "-1\n",
				"cpu/minibox/abc/cpu.cfs_period_us":        "100000\n",
			},
			cgroup:  v1Cgroup,
			wantMem: "max", wantPids: "max", wantCPU: "-1 100000",
		},
		{
			name: "v1 root cgroup (or a cgroup namespace) without pids.max",
			files: map[string]string{
				"memory/memory.limit_in_bytes": "9223372036854771712\n",
				"pids/cgroup.procs":            "",
				"cpu/cpu.cfs_quota_us":         "-1\n",
				"cpu/cpu.cfs_period_us":        "100000\n",
			},
			cgroup:  "3:pids:/\n2:cpu,cpuacct:/\n1:memory:/\n",
			wantMem: "max", wantPids: "max", wantCPU: "-1 100000",
		},
		{
			name: "hybrid: v1 controllers win over an empty cgroup2",
			files: map[string]string{
				"unified/cgroup.controllers":               "",
				"unified/user.slice/cgroup.procs":          "",
				"memory/minibox/abc/memory.limit_in_bytes": "33554432\n",
				"pids/minibox/abc/pids.max":                "10\n",
				"cpu/minibox/abc/cpu.cfs_quota_us":         "50000\n",
				"cpu/minibox/abc/cpu.cfs_period_us":        "100000\n",
			},
			cgroup:  hybridCgroup,
			wantMem: "33554432", wantPids: "10", wantCPU: "50000 100000",
		},
		{
			name: "hybrid with a controller on cgroup2",
			files: map[string]string{
				"unified/cgroup.controllers":               "pids\n",
				"unified/user.slice/pids.max":              "7\n",
				"memory/minibox/abc/memory.limit_in_bytes": "33554432\n",
			},
			cgroup:  "4:memory:/minibox/abc\n0::/user.slice\n",
			wantMem: "33554432", wantPids: "7", wantCPU: unavailable,
		},
		{
			name:    "cgroupfs not mounted",
			files:   map[string]string{},
			cgroup:  hybridCgroup,
			wantMem: unavailable, wantPids: unavailable, wantCPU: unavailable,
		},
		{
			name: "cgroup directory missing",
			files: map[string]string{
				"cgroup.controllers": "cpu memory pids\n",
			},
			cgroup:  v2Cgroup,
			wantMem: unavailable, wantPids: unavailable, wantCPU: unavailable,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, tc.files)
			lines, err := parseCgroup(tc.cgroup)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{memoryMax(root, lines), pidsMax(root, lines), cpuMax(root, lines)}
			want := []string{tc.wantMem, tc.wantPids, tc.wantCPU}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("memory_max, pids_max, cpu_max:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestParseMountPoints(t *testing.T) {
	mountinfo := `22 1 0:21 / / rw,relatime - ext4 /dev/vda rw
23 22 0:22 / /proc rw,nosuid - proc proc rw
24 22 0:23 / /my\040dir rw - tmpfs tmpfs rw
`
	want := []string{"/", "/proc", `/my\040dir`}
	if got := parseMountPoints(mountinfo); !reflect.DeepEqual(got, want) {
		t.Errorf("parseMountPoints = %q, want %q", got, want)
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tprobe\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\n"
	got := parseStatus(status)
	for key, want := range map[string]string{"CapEff": "00000000a80425fb", "NoNewPrivs": "1", "Seccomp": "2"} {
		if got[key] != want {
			t.Errorf("%s = %q, want %q", key, got[key], want)
		}
	}
	if v := fieldOr(got, "Missing"); v != unavailable {
		t.Errorf("missing field = %q, want %q", v, unavailable)
	}
}

func TestParseNetDev(t *testing.T) {
	dev := `Inter-|   Receive                            |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes
  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
`
	want := []string{"eth0", "lo"}
	if got := parseNetDev(dev); !reflect.DeepEqual(got, want) {
		t.Errorf("parseNetDev = %q, want %q", got, want)
	}
}

func TestListProcs(t *testing.T) {
	proc := writeTree(t, map[string]string{
		"10/status": "", "2/status": "", "self/status": "", "meminfo": "", "sys/x": "",
	})
	want := []string{"2", "10"}
	if got := listProcs(proc); !reflect.DeepEqual(got, want) {
		t.Errorf("listProcs = %q, want %q (numeric, ascending)", got, want)
	}
	if got := listProcs(t.TempDir()); got != nil {
		t.Errorf("listProcs(empty dir) = %q, want nil: an unmounted /proc is unavailable", got)
	}
}

func TestFormat(t *testing.T) {
	kvs := []kv{{"pid", "1"}, {"hostname", "minibox"}, {"cpu_max", "50000 100000"}, {"a", `q"`}}
	if got, want := formatText(kvs), "pid=1\nhostname=minibox\ncpu_max=50000 100000\na=q\"\n"; got != want {
		t.Errorf("formatText = %q, want %q", got, want)
	}
	got := formatJSON(kvs)
	if want := `{"pid":"1","hostname":"minibox","cpu_max":"50000 100000","a":"q\""}`; got != want {
		t.Errorf("formatJSON = %s, want %s (keys in report order)", got, want)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("formatJSON is not JSON: %v", err)
	}
}

// TestReportKeys checks the contract's key order, in text and JSON form.
func TestReportKeys(t *testing.T) {
	want := []string{"pid", "ppid", "uid", "gid", "hostname", "procs", "nprocs", "root",
		"marker", "mounts", "nmounts", "cgroup", "memory_max", "pids_max", "cpu_max",
		"capeff", "nonewprivs", "seccomp", "netns_links"}
	for _, args := range [][]string{nil, {"report"}} {
		var out bytes.Buffer
		if code := run(args, &out, &out); code != 0 {
			t.Fatalf("run(%q) = %d, want 0", args, code)
		}
		var keys []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			key, value, ok := strings.Cut(line, "=")
			if !ok || value == "" {
				t.Errorf("line %q is not key=value", line)
			}
			keys = append(keys, key)
		}
		if !reflect.DeepEqual(keys, want) {
			t.Errorf("keys of run(%q):\n got %q\nwant %q", args, keys, want)
		}
	}
	var out bytes.Buffer
	if code := run([]string{"--json"}, &out, &out); code != 0 {
		t.Fatalf("run(--json) = %d", code)
	}
	var m map[string]string
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("--json output %q: %v", out.String(), err)
	}
	if len(m) != len(want) {
		t.Errorf("--json has %d keys, want %d", len(m), len(want))
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"nope"}, `unknown action "nope"`},
		{[]string{"alloc"}, "usage: probe alloc MIB"},
		{[]string{"alloc", "-1"}, "MIB must be a whole number"},
		{[]string{"fork", "x"}, "N must be a whole number"},
		{[]string{"exit", "300"}, "status must be 0..255"},
		{[]string{"kill-self", "NOPE"}, `unknown signal "NOPE"`},
		{[]string{"open", "/x", "rw"}, "mode must be r or w"},
		{[]string{"sleep", "soon"}, "SECONDS must be a number"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tc.wantErr) || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("stderr %q, want one line containing %q", stderr.String(), tc.wantErr)
			}
		})
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{"KILL": unix.SIGKILL, "SIGTERM": unix.SIGTERM, "9": unix.SIGKILL, "int": unix.SIGINT} {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// TestActionResults runs actions that need no privileges and checks the
// result line and exit status.
func TestActionResults(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	tests := []struct {
		args     []string
		wantOut  string
		wantCode int
	}{
		{[]string{"alloc", "4"}, "allocated=4\nresult=ok\n", 0},
		{[]string{"write", file, "hello"}, "result=ok\n", 0},
		{[]string{"read", file}, "bytes=5\ndata=hello\nresult=ok\n", 0},
		{[]string{"open", file, "w"}, "result=ok\n", 0},
		{[]string{"open", filepath.Join(dir, "missing")}, "result=ENOENT\n", 1},
		{[]string{"read", dir}, "result=EISDIR\n", 1},
		{[]string{"fork", "3"}, "forked=3\nfork_error=none\nresult=ok\n", 0},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.wantCode || stdout.String() != tc.wantOut {
				t.Errorf("exit %d, stdout %q; want %d, %q (stderr %q)", code, stdout.String(), tc.wantCode, tc.wantOut, stderr.String())
			}
		})
	}
}
