// containerd 1.6 drives minibox through its runc shim (ctr run
// --runc-binary). The test starts its own containerd (own root, state and
// socket, CRI disabled) and skips, saying why, when containerd is not
// installed.
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/icmd"
)

type containerd struct {
	t      *testing.T
	dir    string
	sock   string
	parent string // cgroup parent below /minibox
	daemon *exec.Cmd
}

const ctrImage = "localhost/minibox-rootfs:latest"

func newContainerd(t *testing.T) *containerd {
	t.Helper()
	needRoot(t)
	needTools(t, "containerd", "ctr", "containerd-shim-runc-v2")
	rootfs := rootfsDir(t)
	dir := shortTemp(t, "mbc")
	// The shim's socket lives in /run/containerd/s whatever the config
	// says (containerd 1.6): remove what the test created there.
	keepClean(t, "/run/containerd", "/run/containerd/s")
	c := &containerd{t: t, dir: dir, sock: filepath.Join(dir, "c.sock"),
		parent: fmt.Sprintf("ctr-%d", os.Getpid())}
	config := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %[3]q
[ttrpc]
  address = %[4]q
`, dir+"/root", dir+"/state", c.sock, c.sock+".ttrpc")
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o644))
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	assert.NilError(t, err)
	c.daemon = exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	c.daemon.Stdout, c.daemon.Stderr = logf, logf
	assert.NilError(t, c.daemon.Start())
	logf.Close()
	t.Cleanup(c.stop)
	for i := 0; icmd.RunCommand("ctr", "--address", c.sock, "version").ExitCode != 0; i++ {
		if i == 100 {
			log, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Fatalf("containerd did not start:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}

	img := filepath.Join(dir, "image.tar")
	writeOCIArchive(t, rootfs, img, ctrImage)
	c.ctr("images", "import", img).Assert(t, icmd.Success)
	return c
}

// stop removes what is left, stops containerd (by its pid) and checks
// that no shim of ours survived it.
func (c *containerd) stop() {
	t := c.t
	for _, id := range strings.Fields(c.ctr("tasks", "list", "--quiet").Stdout()) {
		t.Errorf("task %s left running", id)
		c.ctr("tasks", "kill", "--signal", "SIGKILL", id)
		time.Sleep(200 * time.Millisecond)
		c.ctr("tasks", "delete", "--force", id)
	}
	for _, id := range strings.Fields(c.ctr("containers", "list", "--quiet").Stdout()) {
		c.ctr("containers", "delete", id)
	}
	c.ctr("images", "remove", ctrImage)
	_ = c.daemon.Process.Signal(unix.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.daemon.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = c.daemon.Process.Kill()
		<-done
	}
	// A shim is a daemon of its own: find any that talks to our socket.
	for _, pid := range procsMentioning(c.sock) {
		t.Errorf("shim left running: %d", pid)
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	removeCgroupTree(t, c.parent)
}

func (c *containerd) ctr(args ...string) *icmd.Result {
	c.t.Helper()
	full := append([]string{"--address", c.sock, "--namespace", "minibox-test"}, args...)
	return icmd.RunCmd(icmd.Command("ctr", full...), icmd.WithTimeout(2*time.Minute))
}

// runFlags are `ctr run`'s flags that put minibox in runc's place: the
// shim runs --runc-binary with --root (--runc-root), --log and
// --log-format json. The cgroup goes below /minibox.
func (c *containerd) runFlags(id string) []string {
	return []string{"--runc-binary", bin, "--runc-root", c.dir + "/rt", "--fifo-dir", c.dir + "/fifo",
		"--cgroup", "/minibox/" + c.parent + "/" + id}
}

func (c *containerd) run(id string, flags []string, cmd ...string) *icmd.Result {
	c.t.Helper()
	args := append(append(append([]string{"run"}, c.runFlags(id)...), flags...), ctrImage, id)
	return c.ctr(append(args, cmd...)...)
}

func TestContainerdRun(t *testing.T) {
	c := newContainerd(t)
	c.run("c1", []string{"--rm"}, "/bin/echo", "hi").Assert(t, icmd.Expected{Out: "hi"})
	c.run("c2", []string{"--rm"}, "/bin/sh", "-c", "exit 3").Assert(t, icmd.Expected{ExitCode: 3})
	r := c.run("c3", []string{"--rm"}, "/bin/probe")
	r.Assert(t, icmd.Success)
	m := parseProbe(r.Stdout())
	assert.Equal(t, m["pid"], "1")
	assert.Equal(t, m["marker"], "yes")
	assert.Assert(t, is.Contains(m["cgroup"], "/minibox/"+c.parent+"/c3"))
	// The shim reads minibox's --log (JSON lines) to report a failed create.
	r = c.run("c4", []string{"--rm"}, "/nonexistent")
	assert.Assert(t, r.ExitCode != 0)
	assert.Assert(t, is.Contains(r.Combined(), `OCI runtime create failed: exec: "/nonexistent": no such file or directory`))
}

func TestContainerdLifecycle(t *testing.T) {
	c := newContainerd(t)
	c.run("c1", []string{"--detach"}, "/bin/sleep", "1000").Assert(t, icmd.Success)
	status := func() string {
		for _, line := range strings.Split(c.ctr("tasks", "list").Stdout(), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "c1" {
				return f[2]
			}
		}
		return "none"
	}
	assert.Equal(t, status(), "RUNNING")

	// exec: the shim runs `minibox exec --process F --detach --pid-file P`.
	c.ctr("tasks", "exec", "--fifo-dir", c.dir+"/fifo", "--exec-id", "e1", "c1",
		"/bin/sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; exit 4").
		Assert(t, icmd.Expected{ExitCode: 4, Out: "/bin/sleep 1000"})

	// ps: `minibox ps --format json`.
	r := c.ctr("tasks", "ps", "c1")
	r.Assert(t, icmd.Success)
	lines := strings.Split(strings.TrimSpace(r.Stdout()), "\n")
	assert.Assert(t, is.Len(lines, 2), r.Stdout())

	c.ctr("tasks", "pause", "c1").Assert(t, icmd.Success)
	assert.Equal(t, status(), "PAUSED")
	c.ctr("tasks", "resume", "c1").Assert(t, icmd.Success)
	assert.Equal(t, status(), "RUNNING")

	c.ctr("tasks", "kill", "--signal", "SIGKILL", "c1").Assert(t, icmd.Success)
	for i := 0; status() != "STOPPED"; i++ {
		assert.Assert(t, i < 100, "still %s after SIGKILL", status())
		time.Sleep(100 * time.Millisecond)
	}
	c.ctr("tasks", "delete", "c1").Assert(t, icmd.Success)
	c.ctr("containers", "delete", "c1").Assert(t, icmd.Success)

	// delete --force of a running task.
	c.run("c2", []string{"--detach"}, "/bin/sleep", "1000").Assert(t, icmd.Success)
	c.ctr("tasks", "delete", "--force", "c2").Assert(t, icmd.Success)
	c.ctr("containers", "delete", "c2").Assert(t, icmd.Success)
	entries, _ := os.ReadDir(filepath.Join(c.dir, "rt", "minibox-test"))
	assert.Assert(t, is.Len(entries, 0), "minibox state left in --runc-root")
}

// ctr -t needs a terminal of its own: the test gives it a pty.
func TestContainerdTTY(t *testing.T) {
	c := newContainerd(t)
	master, slave := newPty(t)
	args := append(append([]string{"--address", c.sock, "--namespace", "minibox-test", "run", "--rm", "-t"},
		c.runFlags("c1")...), ctrImage, "c1", "/bin/sh", "-c", "tty; exit 5")
	cmd := exec.Command("ctr", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	assert.NilError(t, cmd.Start())
	slave.Close()
	out := make(chan string, 1)
	go func() {
		var b strings.Builder
		_, _ = io.Copy(&b, master)
		out <- b.String()
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	assert.Assert(t, errors.As(err, &ee) && ee.ExitCode() == 5, "ctr run -t: %v", err)
	select {
	case s := <-out:
		assert.Assert(t, is.Contains(s, "/dev/pts/0"))
	case <-time.After(10 * time.Second):
		t.Fatal("no output from the container's terminal")
	}
}

// writeOCIArchive writes an OCI image layout as a tar (what `ctr images
// import` reads) with one uncompressed layer holding the rootfs.
func writeOCIArchive(t *testing.T, rootfs, out, ref string) {
	t.Helper()
	dir := t.TempDir()
	blobs := filepath.Join(dir, "blobs", "sha256")
	assert.NilError(t, os.MkdirAll(blobs, 0o755))
	type desc struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	// put stores a blob under its digest.
	put := func(mediaType string, data []byte) desc {
		sum := fmt.Sprintf("%x", sha256.Sum256(data))
		assert.NilError(t, os.WriteFile(filepath.Join(blobs, sum), data, 0o644))
		return desc{MediaType: mediaType, Digest: "sha256:" + sum, Size: int64(len(data))}
	}
	layer, err := exec.Command("tar", "-C", rootfs, "-c", ".").Output()
	assert.NilError(t, err)
	layerDesc := put("application/vnd.oci.image.layer.v1.tar", layer)
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDesc.Digest}},
	})
	assert.NilError(t, err)
	configDesc := put("application/vnd.oci.image.config.v1+json", config)
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": configDesc, "layers": []desc{layerDesc},
	})
	assert.NilError(t, err)
	manifestDesc := put("application/vnd.oci.image.manifest.v1+json", manifest)
	manifestDesc.Annotations = map[string]string{"io.containerd.image.name": ref}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []desc{manifestDesc}})
	assert.NilError(t, err)
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644))

	f, err := os.Create(out)
	assert.NilError(t, err)
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name, _ = filepath.Rel(dir, p)
		if err := tw.WriteHeader(hdr); err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	assert.NilError(t, err)
	assert.NilError(t, tw.Close())
}
