// Package initproc is the container's first process. `minibox` starts
// itself again as `/proc/self/exe init` in new namespaces (clone(2) flags
// from package namespaces); that child runs Main, which sets the
// container up from the inside, in a fixed order, and finally execve(2)s
// the user's program so it takes over the PID and every namespace.
//
// Why a re-exec rather than fork: a Go program is multi-threaded from its
// first instruction, and fork(2) of a multi-threaded process is unsafe.
// os/exec does fork+exec in one step, so the child starts clean, already
// in its namespaces.
//
// The order (Main, step by step) is the point of this package:
//
//  1. read the Config from the parent (fd 3), which it sends as soon as
//     init runs;
//  2. join namespaces given by path (setns(2)); loopback up; hostname;
//  3. the filesystem: rootfs.Setup (private propagation, overlay, mounts,
//     /dev, pivot_root, masked and read-only paths). Just before the
//     cgroup filesystem is mounted, init waits for the parent's "cgroup"
//     message (it has moved init into the container's cgroup meanwhile)
//     and unshares the cgroup namespace, whose root is then that cgroup;
//  4. OCI createContainer hooks just before pivot_root (hooks.go);
//  5. the terminal (a pty from the container's devpts) or plain stdio;
//  6. working directory, rlimits, look up the program in the container;
//  7. privileges: bounding set, user/groups, capabilities, no_new_privs,
//     seccomp — last, so the filter does not have to allow setup's calls;
//  8. report "ready" on the sync pipe (fd 4); any error before that is
//     sent there instead, so `create` prints it and exits non-zero;
//  9. block opening the exec fifo (fd 5) until `start` opens its other
//     end, then execve(2) — or, with the init annotation, stay PID 1,
//     start the program as a child, forward signals and reap zombies
//     (with a terminal, the child leads the terminal's foreground process
//     group, so the terminal's signals reach it once, not through us too).
//
// Everything runs on the main thread, which main.go locks: capabilities,
// no_new_privs, seccomp and the cgroup namespace are per-thread, and the
// thread that calls execve(2) is the one whose state survives.
//
// Man pages: [execve(2)], [unshare(2)], [setns(2)], [sethostname(2)],
// [prctl(2)], [pid_namespaces(7)], [fifo(7)], [tcsetpgrp(3)].
//
// [execve(2)]: https://man7.org/linux/man-pages/man2/execve.2.html
// [unshare(2)]: https://man7.org/linux/man-pages/man2/unshare.2.html
// [setns(2)]: https://man7.org/linux/man-pages/man2/setns.2.html
// [sethostname(2)]: https://man7.org/linux/man-pages/man2/sethostname.2.html
// [prctl(2)]: https://man7.org/linux/man-pages/man2/prctl.2.html
// [pid_namespaces(7)]: https://man7.org/linux/man-pages/man7/pid_namespaces.7.html
// [fifo(7)]: https://man7.org/linux/man-pages/man7/fifo.7.html
// [tcsetpgrp(3)]: https://man7.org/linux/man-pages/man3/tcsetpgrp.3.html
package initproc
