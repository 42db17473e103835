package security

import (
	"encoding/binary"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// run interprets a classic BPF seccomp program on one syscall, as the
// kernel would, so the compiler is tested without installing a filter.
func run(t *testing.T, prog []unix.SockFilter, arch uint32, nr int, args ...uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], uint32(nr))
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case ldAbsW:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case andK:
			acc &= in.K
		case jaK:
			pc += int(in.K)
		case jeqK, jgtK, jgeK:
			ok := (in.Code == jeqK && acc == in.K) || (in.Code == jgtK && acc > in.K) || (in.Code == jgeK && acc >= in.K)
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case retK:
			return in.K
		default:
			t.Fatalf("instruction %d: unknown opcode %#x", pc, in.Code)
		}
	}
	t.Fatalf("program fell off its end")
	return 0
}

const eperm = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)

func TestDefaultProfile(t *testing.T) {
	prog, err := Compile(DefaultProfile())
	assert.NilError(t, err)
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	for _, tc := range []struct {
		name string
		arch uint32
		nr   int
		args []uint64
		want uint32
	}{
		{"read", nativeArch, unix.SYS_READ, nil, allow},
		{"execve", nativeArch, unix.SYS_EXECVE, nil, allow},
		{"mount", nativeArch, unix.SYS_MOUNT, nil, eperm},
		{"umount2", nativeArch, unix.SYS_UMOUNT2, nil, eperm},
		{"init_module", nativeArch, unix.SYS_INIT_MODULE, nil, eperm},
		{"finit_module", nativeArch, unix.SYS_FINIT_MODULE, nil, eperm},
		{"kexec_load", nativeArch, unix.SYS_KEXEC_LOAD, nil, eperm},
		{"keyctl", nativeArch, unix.SYS_KEYCTL, nil, eperm},
		{"bpf", nativeArch, unix.SYS_BPF, nil, eperm},
		{"unshare", nativeArch, unix.SYS_UNSHARE, nil, eperm},
		{"setns", nativeArch, unix.SYS_SETNS, nil, eperm},
		{"open_by_handle_at", nativeArch, unix.SYS_OPEN_BY_HANDLE_AT, nil, eperm},
		{"clone of a thread", nativeArch, unix.SYS_CLONE, []uint64{unix.CLONE_VM | unix.CLONE_THREAD}, allow},
		{"clone of a process", nativeArch, unix.SYS_CLONE, []uint64{uint64(unix.SIGCHLD)}, allow},
		{"clone with a new user ns", nativeArch, unix.SYS_CLONE, []uint64{unix.CLONE_NEWUSER}, eperm},
		{"clone with a new net ns", nativeArch, unix.SYS_CLONE, []uint64{unix.CLONE_NEWNET | uint64(unix.SIGCHLD)}, eperm},
		{"clone3 falls back", nativeArch, unix.SYS_CLONE3, nil, unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{"foreign architecture", unix.AUDIT_ARCH_I386, 0, nil, eperm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, prog, tc.arch, tc.nr, tc.args...)
			assert.Equal(t, got, tc.want, "got %#x want %#x", got, tc.want)
		})
	}
}

// TestArgOperators checks each comparison on 64-bit values whose halves
// differ, the case a 32-bit-only compiler gets wrong.
func TestArgOperators(t *testing.T) {
	const hi = uint64(5) << 32
	errno := uint(99)
	for _, tc := range []struct {
		op    specs.LinuxSeccompOperator
		value uint64
		two   uint64
		match []uint64
		miss  []uint64
	}{
		{specs.OpEqualTo, hi | 7, 0, []uint64{hi | 7}, []uint64{7, hi, hi | 8}},
		{specs.OpNotEqual, hi | 7, 0, []uint64{7, hi, hi | 8, 0}, []uint64{hi | 7}},
		{specs.OpMaskedEqual, 0xff | hi, 0x12, []uint64{0x12, 0x1012, 0x12 | 8<<32}, []uint64{0x13, 0x12 | 1<<32}},
		{specs.OpGreaterThan, hi | 7, 0, []uint64{hi | 8, 6 << 32}, []uint64{hi | 7, hi | 6, 7, 4 << 32}},
		{specs.OpGreaterEqual, hi | 7, 0, []uint64{hi | 7, hi | 8, 6 << 32}, []uint64{hi | 6, 7}},
		{specs.OpLessThan, hi | 7, 0, []uint64{hi | 6, 7, 4<<32 | 9}, []uint64{hi | 7, hi | 8, 6 << 32}},
		{specs.OpLessEqual, hi | 7, 0, []uint64{hi | 7, hi | 6, 7}, []uint64{hi | 8, 6 << 32}},
	} {
		t.Run(string(tc.op), func(t *testing.T) {
			prof := &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: &errno,
					Args: []specs.LinuxSeccompArg{{Index: 2, Value: tc.value, ValueTwo: tc.two, Op: tc.op}}}},
			}
			prog, err := Compile(prof)
			assert.NilError(t, err)
			want := unix.SECCOMP_RET_ERRNO | uint32(errno)
			for _, a := range tc.match {
				assert.Check(t, run(t, prog, nativeArch, unix.SYS_PERSONALITY, 0, 0, a) == want, "%#x should match", a)
			}
			for _, a := range tc.miss {
				assert.Check(t, run(t, prog, nativeArch, unix.SYS_PERSONALITY, 0, 0, a) == unix.SECCOMP_RET_ALLOW, "%#x should not match", a)
			}
			// Another syscall with the same argument is not affected.
			assert.Check(t, run(t, prog, nativeArch, unix.SYS_READ, 0, 0, tc.match[0]) == unix.SECCOMP_RET_ALLOW)
		})
	}
}

// TestAllowList: an allow-list profile (podman's shape) with hundreds of
// names compiles into jumps that fit, and denies what it does not list.
func TestAllowList(t *testing.T) {
	var names []string
	for n := range syscallNumbers {
		if n != "mount" {
			names = append(names, n)
		}
	}
	prog, err := Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls:      []specs.LinuxSyscall{{Names: append(names, "not_a_syscall"), Action: specs.ActAllow}},
	})
	assert.NilError(t, err)
	assert.Equal(t, run(t, prog, nativeArch, unix.SYS_READ), uint32(unix.SECCOMP_RET_ALLOW))
	assert.Equal(t, run(t, prog, nativeArch, unix.SYS_MOUNT), eperm)
}

func TestCompileErrors(t *testing.T) {
	_, err := Compile(&specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOTIFY"})
	assert.ErrorContains(t, err, `action "SCMP_ACT_NOTIFY" is not supported`)
	_, err = Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}})
	assert.ErrorContains(t, err, "argument index 6 out of range")
}

func TestParseCaps(t *testing.T) {
	s, err := ParseCaps("bounding", []string{"CAP_CHOWN", "CAP_KILL", "cap_sys_admin"})
	assert.NilError(t, err)
	assert.Equal(t, s, CapSet(1<<0|1<<5|1<<21))
	_, err = ParseCaps("effective", []string{"CAP_BOGUS"})
	assert.ErrorContains(t, err, `process.capabilities.effective: unknown capability "CAP_BOGUS"`)
}

// TestDockerCapsMask: docker's default set is the mask the probe shows.
func TestDockerCapsMask(t *testing.T) {
	s, err := ParseCaps("bounding", []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"})
	assert.NilError(t, err)
	assert.Equal(t, uint64(s), uint64(0xa80425fb))
}
