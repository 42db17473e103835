// Command minibox is a small container runtime: `minibox run` for people
// (docker-like flags) and runc's command line for podman and containerd.
// Both end in the same package, internal/container.
package main

import (
	"os"
	"runtime"

	"minibox.dev/final/internal/cli"
	"minibox.dev/final/internal/initproc"
)

// init locks the main goroutine to the main thread when minibox runs as
// a container's init: capabilities, no_new_privs, seccomp and the cgroup
// namespace are set per thread, so all of it must happen on the thread
// that finally calls execve(2). (LockOSThread in an init function keeps
// main on the main thread.)
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.LockOSThread()
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		initproc.Main() // does not return
	}
	os.Exit(cli.Main(os.Args))
}
