package security

import "golang.org/x/sys/unix"

const nativeArch = unix.AUDIT_ARCH_X86_64

// archExtra refuses the x32 ABI: on x86_64 its syscalls share the arch
// value but have bit 30 set in the number, so a deny list would miss them.
func archExtra(eperm uint32) []unix.SockFilter {
	return []unix.SockFilter{
		stmt(ldAbsW, offNr),
		jump(jgeK, 0x40000000, 0, 1),
		stmt(retK, eperm),
	}
}
