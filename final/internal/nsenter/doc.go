// Package nsenter joins the namespaces of a running container before the Go
// runtime starts. It is the only cgo in minibox.
//
// Why C: setns(2) into a mount namespace fails with EINVAL when the caller
// shares its filesystem attributes with another thread, and setns(2) into a
// user namespace fails when the caller is multi-threaded. A Go program has
// several threads before main runs, so no Go code can ever make those calls.
// runc solves this with a C constructor ("nsexec") that runs when the binary
// is loaded, while the process still has a single thread. minibox does the
// same, in about a hundred lines.
//
// How it is used (see [Start]): `minibox exec` re-executes /proc/self/exe with
// two environment variables set. EnvPaths lists the namespace files to join,
// in order, separated by ':'; EnvSync names a file descriptor (a socket shared
// with the parent). The constructor in nsenter.c then:
//
//  1. waits for one byte 'g' on the sync descriptor, so the parent can put the
//     process into the container's cgroups first (the fork below inherits them);
//  2. opens every namespace file, before joining any, because after joining
//     the mount namespace the host's /proc/PID paths no longer resolve;
//  3. calls setns(2) on each, in the given order (user first, mount last);
//  4. forks: setns(2) with a PID namespace only affects children, so the
//     child is the process that lives inside the container. The parent writes
//     "pid N\n" (N as seen from the host) to the sync descriptor and exits;
//     on failure it writes "error MESSAGE\n" and exits 1.
//
// The child returns from the constructor and the Go runtime starts normally,
// already inside every namespace. Without EnvPaths the constructor returns at
// once, so every other minibox command is unaffected.
//
// The package keeps to plain libc calls (open, setns, fork, write) so a
// static glibc build works:
// CGO_ENABLED=1 go build -ldflags '-linkmode external -extldflags -static'.
//
// Man pages: [setns(2)], [namespaces(7)], [pid_namespaces(7)], [fork(2)].
//
// [setns(2)]: https://man7.org/linux/man-pages/man2/setns.2.html
// [namespaces(7)]: https://man7.org/linux/man-pages/man7/namespaces.7.html
// [pid_namespaces(7)]: https://man7.org/linux/man-pages/man7/pid_namespaces.7.html
// [fork(2)]: https://man7.org/linux/man-pages/man2/fork.2.html
package nsenter
