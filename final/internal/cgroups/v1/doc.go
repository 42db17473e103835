// Package v1 drives cgroup v1: one hierarchy per controller, each mounted
// at /sys/fs/cgroup/CONTROLLER (or co-mounted, e.g. cpu,cpuacct). The
// container's cgroup is the same path in every hierarchy. One file per
// controller: memory.go, pids.go, cpu.go, cpuset.go, devices.go, freezer.go.
//
// Kernel docs: [cgroup-v1], [memory], [devices].
//
// [cgroup-v1]: https://docs.kernel.org/admin-guide/cgroup-v1/cgroups.html
// [memory]: https://docs.kernel.org/admin-guide/cgroup-v1/memory.html
// [devices]: https://docs.kernel.org/admin-guide/cgroup-v1/devices.html
package v1
