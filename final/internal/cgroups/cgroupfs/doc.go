// Package cgroupfs reads and writes cgroup interface files, the one way
// both drivers (v1 and v2) talk to the kernel's cgroup filesystem: a
// limit is a write(2) into a file such as memory.max, a process joins by
// writing its pid to cgroup.procs, and a cgroup goes away with rmdir(2).
//
// Man pages: [cgroups(7)], [rmdir(2)].
//
// [cgroups(7)]: https://man7.org/linux/man-pages/man7/cgroups.7.html
// [rmdir(2)]: https://man7.org/linux/man-pages/man2/rmdir.2.html
package cgroupfs
