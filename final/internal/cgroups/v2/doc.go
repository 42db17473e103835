// Package v2 drives the unified cgroup v2 hierarchy: one tree, the
// container's cgroup a directory in it, controllers enabled for children
// through each ancestor's cgroup.subtree_control. Device access has no
// interface file in v2: devices.go loads a BPF_PROG_TYPE_CGROUP_DEVICE
// program and attaches it to the cgroup.
//
// Kernel docs: [cgroup-v2]; man pages: [bpf(2)].
//
// [cgroup-v2]: https://docs.kernel.org/admin-guide/cgroup-v2.html
// [bpf(2)]: https://man7.org/linux/man-pages/man2/bpf.2.html
package v2
