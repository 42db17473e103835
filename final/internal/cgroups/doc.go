// Package cgroups limits what a container may use: memory (+swap), pids,
// CPU time and weight, CPUs, and which devices it may open. A Manager
// creates the container's cgroup below a `minibox` parent, writes the
// limits, moves init in, and removes the cgroup again.
//
// Mode tells the host's layout from statfs(2), as containerd/cgroups does:
// unified (cgroup v2 only), legacy (v1 only) or hybrid (v1 controllers
// with cgroup2 mounted at /sys/fs/cgroup/unified, like this project's CI).
// v1 and hybrid use the v1 driver (package v1), unified uses package v2.
//
// Man pages: [cgroups(7)], [statfs(2)]; kernel docs:
// [cgroup-v1], [cgroup-v2].
//
// [cgroups(7)]: https://man7.org/linux/man-pages/man7/cgroups.7.html
// [statfs(2)]: https://man7.org/linux/man-pages/man2/statfs.2.html
// [cgroup-v1]: https://docs.kernel.org/admin-guide/cgroup-v1/index.html
// [cgroup-v2]: https://docs.kernel.org/admin-guide/cgroup-v2.html
package cgroups
