package main

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/icmd"
)

// nsScript prints "TYPE:[INODE]" for each namespace of the shell.
const nsScript = `for n in pid mnt uts ipc net cgroup user time; do echo "$n $(readlink /proc/self/ns/$n)"; done`

func namespacesOf(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, " ")
		assert.Assert(t, ok, "bad line %q", line)
		m[k] = v
	}
	return m
}

func hostNamespaces(t *testing.T) map[string]string {
	m := map[string]string{}
	for _, n := range []string{"pid", "mnt", "uts", "ipc", "net", "cgroup", "user", "time"} {
		v, err := os.Readlink("/proc/self/ns/" + n)
		assert.NilError(t, err)
		m[n] = v
	}
	return m
}

// TestIsolationManifest is the final step's manifest: which namespaces a
// default container has of its own, and which it still shares with the
// host (what must still "fail" to be isolated without a flag).
func TestIsolationManifest(t *testing.T) {
	b := newBox(t)
	host := hostNamespaces(t)
	for _, tc := range []struct {
		name   string
		flags  []string
		own    []string
		shared []string
	}{
		{"default", nil, []string{"pid", "mnt", "uts", "ipc", "net", "cgroup"}, []string{"user", "time"}},
		{"network host", []string{"--network", "host"}, []string{"pid", "mnt", "uts", "ipc", "cgroup"}, []string{"net", "user", "time"}},
		{"userns", []string{"--userns"}, []string{"pid", "mnt", "uts", "ipc", "net", "cgroup", "user"}, []string{"time"}},
		{"userns, network host", []string{"--userns", "--network", "host"}, []string{"pid", "mnt", "uts", "ipc", "cgroup", "user"}, []string{"net", "time"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.run(append(tc.flags, "/bin/sh", "-c", nsScript)...)
			r.Assert(t, icmd.Success)
			got := namespacesOf(t, r.Stdout())
			for _, n := range tc.own {
				assert.Check(t, got[n] != host[n], "%s namespace is the host's (%s)", n, got[n])
			}
			for _, n := range tc.shared {
				assert.Check(t, got[n] == host[n], "%s namespace: got %s, want the host's %s", n, got[n], host[n])
			}
		})
	}
}

// TestProbeReport checks what a default container sees, from inside.
func TestProbeReport(t *testing.T) {
	b := newBox(t)
	p := b.probe()
	want := map[string]string{
		"pid": "1", "ppid": "0", "uid": "0", "gid": "0",
		"hostname": "minibox", "procs": "1", "marker": "yes",
		// docker's default capability set, nothing more
		"capeff":     "00000000a80425fb",
		"nonewprivs": "1", "seccomp": "2",
		"netns_links": "lo",
	}
	for k, v := range want {
		assert.Check(t, p[k] == v, "%s=%s, want %s", k, p[k], v)
	}
	// The container's cgroup namespace shows its own cgroup as root.
	for _, line := range strings.Split(p["cgroup"], ";") {
		assert.Check(t, strings.HasSuffix(line, ":/"), "cgroup line %q is not the namespace root", line)
	}
}

// TestLoopbackUp: --network none still has a working loopback.
func TestLoopbackUp(t *testing.T) {
	b := newBox(t)
	r := b.run("/bin/cat", "/sys/class/net/lo/flags")
	r.Assert(t, icmd.Success)
	flags, err := strconv.ParseUint(strings.TrimSpace(r.Stdout()), 0, 32)
	assert.NilError(t, err)
	assert.Check(t, flags&unix.IFF_UP != 0, "lo flags %#x: not up", flags)
}

// TestNetworkHost: --network host shares the host's interfaces.
func TestNetworkHost(t *testing.T) {
	b := newBox(t)
	p := b.probe("--network", "host")
	assert.Equal(t, p["netns_links"], hostLinks(t))
}

// hostLinks lists the host's network interfaces as the probe does:
// the names in /sys/class/net, comma-separated.
func hostLinks(t *testing.T) string {
	t.Helper()
	ents, err := os.ReadDir("/sys/class/net")
	assert.NilError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}

// TestUserNamespace: with --userns the container's root is uid 100000 on
// the host.
func TestUserNamespace(t *testing.T) {
	b := newBox(t)
	r := b.run("--userns", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map; cat /proc/self/status | grep ^Uid")
	r.Assert(t, icmd.Success)
	f := strings.Fields(r.Stdout())
	assert.Assert(t, len(f) >= 4, r.Stdout())
	assert.Equal(t, f[0], "0")                                    // root inside
	assert.DeepEqual(t, f[1:4], []string{"0", "100000", "65536"}) // mapped to 100000 outside

	// The rootfs's directories belong to the container's root, which can
	// create files in them (the rootfs on disk is unchanged: newBox
	// checks); its files keep the host's owner, unmapped: nobody.
	r = b.run("--userns", "/bin/sh", "-c", "echo hi > /tmp/mine && ls -ln /tmp/mine /etc/passwd; ls -ldn /tmp")
	r.Assert(t, icmd.Success)
	var owners []string
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout()), "\n") {
		f := strings.Fields(line)
		assert.Assert(t, len(f) > 3, r.Stdout())
		owners = append(owners, f[len(f)-1]+" "+f[2]+":"+f[3])
	}
	assert.DeepEqual(t, owners, []string{"/etc/passwd 65534:65534", "/tmp/mine 0:0", "/tmp 0:0"})

	// Seen from the host, the container's process is uid 100000.
	name := b.name()
	c := icmd.StartCmd(b.cmd("--name", name, "--userns", "/bin/sh", "-c", "echo up; exec sleep 30"))
	defer c.Cmd.Process.Kill()
	waitOutput(t, c, "up")
	pid := b.pid(name)
	st, err := os.ReadFile("/proc/" + pid + "/status")
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(st), "Uid:\t100000\t100000"), "host view of container root:\n%s", st)
	assert.NilError(t, c.Cmd.Process.Kill())
	icmd.WaitOnCmd(0, c)
	// The killed run leaves its state; the next run sweeps it.
	b.run("/bin/true").Assert(t, icmd.Success)
}

// TestUserNamespaceHostNetwork: with --userns and --network host the
// kernel refuses a new sysfs (a user namespace may mount sysfs only for a
// network namespace it owns), so minibox binds the host's /sys instead:
// read-only down to every mount below it, with the host's cgroup tree
// hidden on v1 (it cannot be mounted from a user namespace) and the
// container's own cgroup2 on v2.
func TestUserNamespaceHostNetwork(t *testing.T) {
	b := newBox(t)
	r := b.run("--userns", "--network", "host", "/bin/sh", "-c",
		`awk '$5 ~ "^/sys(/|$)" {print "mount", $5, $6}' /proc/self/mountinfo; echo "cgroup=$(ls /sys/fs/cgroup | tr '\n' ' ')"; ls /sys/class/net | tr '\n' ','; echo`)
	r.Assert(t, icmd.Success)
	var mounts int
	var links, cgroup string
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout()), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "mount":
			mounts++
			assert.Check(t, slices.Contains(strings.Split(f[2], ","), "ro"), "%s is writable (%s)", f[1], f[2])
		case strings.HasPrefix(line, "cgroup="):
			cgroup = strings.TrimSpace(strings.TrimPrefix(line, "cgroup="))
		default:
			links = line
		}
	}
	assert.Assert(t, mounts > 0, r.Stdout())
	assert.Equal(t, links, hostLinks(t)+",")
	if cgroupV2() {
		assert.Check(t, strings.Contains(cgroup, "cgroup.procs"), "no cgroup2 at /sys/fs/cgroup: %q", cgroup)
	} else {
		assert.Equal(t, cgroup, "", "the host's cgroup tree shows through")
	}
}
