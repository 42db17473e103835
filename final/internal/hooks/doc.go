// Package hooks runs OCI hooks: programs the runtime calls at fixed points of
// a container's life, each with the container's state as JSON on its stdin.
//
// The runtime-spec (config.md, "POSIX-platform Hooks") fixes when each kind
// runs and what a failure means:
//
//   - createRuntime (and the deprecated prestart, run just before it): during
//     create, after the namespaces exist and before pivot_root; run by the
//     runtime in the runtime's namespaces. A failure fails create.
//   - createContainer: during create, after createRuntime, before pivot_root,
//     in the container's namespaces. A failure fails create.
//   - startContainer: during start, just before the user's program is
//     executed, in the container's namespaces. A failure fails start.
//   - poststart: after the user's program has started. A failure is only a
//     warning.
//   - poststop: after the container is deleted. A failure is only a warning.
//
// Hooks run one at a time, in the order the config lists them; a hook's path
// is absolute, its args include argv[0], and its env is exactly what the
// config gives (nothing is inherited). Timeout, when set, is in seconds.
//
// Man pages: [execve(2)], [pipe(7)].
//
// [execve(2)]: https://man7.org/linux/man-pages/man2/execve.2.html
// [pipe(7)]: https://man7.org/linux/man-pages/man7/pipe.7.html
package hooks
