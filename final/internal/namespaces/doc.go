// Package namespaces translates the spec's namespace list into the clone
// flags the container's init is started with, and its uid/gid mappings
// into the form os/exec writes to /proc/PID/{uid,gid}_map. It is pure and
// table-tested without root.
//
// The cgroup namespace is the exception: it must be created after the
// process has moved into its cgroup (its root is the cgroup at unshare
// time), so init unshares it itself.
//
// Man pages: [namespaces(7)], [clone(2)], [user_namespaces(7)], [cgroup_namespaces(7)].
//
// [namespaces(7)]: https://man7.org/linux/man-pages/man7/namespaces.7.html
// [clone(2)]: https://man7.org/linux/man-pages/man2/clone.2.html
// [user_namespaces(7)]: https://man7.org/linux/man-pages/man7/user_namespaces.7.html
// [cgroup_namespaces(7)]: https://man7.org/linux/man-pages/man7/cgroup_namespaces.7.html
package namespaces
