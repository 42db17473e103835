package security

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Denied lists the syscalls docker's default seccomp profile refuses to a
// container holding docker's default capabilities: kernel modules, kexec,
// the kernel keyring, bpf, mounts and namespace changes, raw I/O ports,
// clocks, swap, reboot, handle-based file opens (the "shocker" escape),
// cross-process memory access, perf, userfaultfd and io_uring.
var Denied = []string{
	"acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
	"delete_module", "finit_module", "init_module", "get_kernel_syms", "get_mempolicy",
	"set_mempolicy", "mbind", "move_pages", "kexec_file_load", "kexec_load", "keyctl",
	"request_key", "lookup_dcookie", "mount", "umount", "umount2", "mount_setattr",
	"move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
	"name_to_handle_at", "open_by_handle_at", "nfsservctl", "perf_event_open",
	"pivot_root", "process_vm_readv", "process_vm_writev", "query_module", "quotactl",
	"quotactl_fd", "reboot", "setns", "unshare", "settimeofday", "stime", "swapon",
	"swapoff", "sysfs", "_sysctl", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
	"iopl", "ioperm", "syslog", "kcmp", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "fanotify_init", "vhangup", "open_tree_attr",
}

// cloneNamespaceFlags are the clone(2) flags that create namespaces.
const cloneNamespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

// DefaultProfile is docker's default restrictions as a runtime-spec
// profile: everything not listed is allowed, Denied syscalls fail with
// EPERM, clone(2) may not create namespaces, and clone3(2) fails with
// ENOSYS (its flags live in memory a filter cannot read) so libc falls
// back to clone.
func DefaultProfile() *specs.LinuxSeccomp {
	enosys := uint(unix.ENOSYS)
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchAARCH64},
		Syscalls: []specs.LinuxSyscall{
			{Names: Denied, Action: specs.ActErrno},
			{Names: []string{"clone"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: cloneNamespaceFlags, ValueTwo: 0, Op: specs.OpMaskedEqual},
			}},
			{Names: []string{"clone"}, Action: specs.ActErrno},
			{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
		},
	}
}
