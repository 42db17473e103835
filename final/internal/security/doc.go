// Package security takes privileges away from the container's process
// just before it runs: the capability sets (bounding, permitted,
// effective, inheritable, ambient), no_new_privs, a seccomp filter, and
// resource limits.
//
// Everything here acts on the calling thread (capset(2), prctl(2) and
// seccomp(2) are per thread), which is why the re-exec'd init locks its
// main goroutine to the main thread and execs from it.
//
// The seccomp filter is compiled from the spec's LinuxSeccomp into
// classic BPF by hand (seccomp.go): no libseccomp, no cgo. DefaultProfile
// is docker's default restrictions written as that struct.
//
// Man pages: [capabilities(7)], [capset(2)], [prctl(2)], [seccomp(2)],
// [setrlimit(2)].
//
// [capabilities(7)]: https://man7.org/linux/man-pages/man7/capabilities.7.html
// [capset(2)]: https://man7.org/linux/man-pages/man2/capset.2.html
// [prctl(2)]: https://man7.org/linux/man-pages/man2/prctl.2.html
// [seccomp(2)]: https://man7.org/linux/man-pages/man2/seccomp.2.html
// [setrlimit(2)]: https://man7.org/linux/man-pages/man2/setrlimit.2.html
package security

//go:generate ./gensyscalls.sh
