package security

import (
	"fmt"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// struct seccomp_data (linux/seccomp.h): what the filter reads.
const (
	offNr   = 0  // int nr
	offArch = 4  // u32 arch
	offArgs = 16 // u64 args[6]
)

// Classic BPF opcodes (linux/filter.h).
const (
	ldAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	jeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jgtK   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	jgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	jaK    = unix.BPF_JMP | unix.BPF_JA
	andK   = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	retK   = unix.BPF_RET | unix.BPF_K
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// action returns the filter's return value for a spec action.
func action(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	errno := uint32(unix.EPERM)
	if errnoRet != nil {
		errno = uint32(*errnoRet)
	}
	switch a {
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | errno&unix.SECCOMP_RET_DATA, nil
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | errno&unix.SECCOMP_RET_DATA, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	}
	return 0, fmt.Errorf("linux.seccomp: action %q is not supported", a)
}

// Compile turns a seccomp profile into a classic BPF program:
//
//	arch check   a foreign architecture (e.g. i386 syscalls made by an
//	             x86_64 process) gets EPERM: its numbers are not ours
//	rule blocks  in order; the first whose syscall and argument tests match
//	             returns its action
//	default      the profile's default action
//
// Names this kernel's table lacks are skipped, as libseccomp does for
// syscalls of other architectures.
func Compile(s *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	def, err := action(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	eperm := uint32(unix.SECCOMP_RET_ERRNO | unix.EPERM)
	prog := []unix.SockFilter{
		stmt(ldAbsW, offArch),
		jump(jeqK, nativeArch, 1, 0),
		stmt(retK, eperm),
	}
	prog = append(prog, archExtra(eperm)...)
	for i, r := range s.Syscalls {
		act, err := action(r.Action, r.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
		}
		var nrs []uint32
		for _, name := range r.Names {
			if nr, ok := syscallNumbers[name]; ok {
				nrs = append(nrs, uint32(nr))
			}
		}
		if len(r.Args) == 0 {
			prog = append(prog, namesBlock(nrs, act)...)
			continue
		}
		for _, nr := range nrs {
			b, err := argsBlock(nr, r.Args, act)
			if err != nil {
				return nil, fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
			}
			prog = append(prog, b...)
		}
	}
	prog = append(prog, stmt(retK, def))
	if len(prog) > 4096 {
		return nil, fmt.Errorf("linux.seccomp: filter has %d instructions, the kernel allows 4096", len(prog))
	}
	return prog, nil
}

// namesBlock returns act when the syscall number is any of nrs, in chunks
// so each jump offset fits in a byte:
//
//	ld nr; jeq n1 ->ret; ...; jeq nK ->ret; ja +1; ret act
func namesBlock(nrs []uint32, act uint32) []unix.SockFilter {
	var out []unix.SockFilter
	for len(nrs) > 0 {
		chunk := nrs[:min(len(nrs), 200)]
		nrs = nrs[len(chunk):]
		out = append(out, stmt(ldAbsW, offNr))
		for i, nr := range chunk {
			out = append(out, jump(jeqK, nr, uint8(len(chunk)-i), 0))
		}
		out = append(out, stmt(jaK, 1), stmt(retK, act))
	}
	return out
}

// argsBlock returns act when the syscall is nr and every argument test
// holds. Each test loads the high then low 32 bits of the 64-bit argument
// (little-endian: low word first in memory) and jumps to "fail", the end
// of the block, when it does not hold.
func argsBlock(nr uint32, args []specs.LinuxSeccompArg, act uint32) ([]unix.SockFilter, error) {
	type ins struct {
		f  unix.SockFilter
		tf bool // jt goes to fail
		ff bool // jf goes to fail
	}
	var body []ins
	for _, a := range args {
		if a.Index > 5 {
			return nil, fmt.Errorf("argument index %d out of range", a.Index)
		}
		lo := uint32(offArgs + 8*a.Index)
		hi := lo + 4
		vhi, vlo := uint32(a.Value>>32), uint32(a.Value)
		ld := func(off uint32) ins { return ins{f: stmt(ldAbsW, off)} }
		switch a.Op {
		case specs.OpEqualTo:
			body = append(body, ld(hi), ins{f: jump(jeqK, vhi, 0, 0), ff: true},
				ld(lo), ins{f: jump(jeqK, vlo, 0, 0), ff: true})
		case specs.OpNotEqual:
			// fail only when both halves are equal
			body = append(body, ld(hi), ins{f: jump(jeqK, vhi, 0, 0)},
				ld(lo), ins{f: jump(jeqK, vlo, 0, 0), tf: true})
			// jf of the first jeq must skip "ld lo; jeq": patched below
			body[len(body)-3].f.Jf = 2
		case specs.OpMaskedEqual:
			mhi, mlo := uint32(a.Value>>32), uint32(a.Value)
			vhi, vlo = uint32(a.ValueTwo>>32), uint32(a.ValueTwo)
			body = append(body, ld(hi), ins{f: stmt(andK, mhi)}, ins{f: jump(jeqK, vhi, 0, 0), ff: true},
				ld(lo), ins{f: stmt(andK, mlo)}, ins{f: jump(jeqK, vlo, 0, 0), ff: true})
		case specs.OpGreaterThan, specs.OpGreaterEqual:
			loOp := uint16(jgtK)
			if a.Op == specs.OpGreaterEqual {
				loOp = jgeK
			}
			// hi > vhi: pass (skip 3); hi != vhi: fail; then compare lo
			body = append(body, ld(hi), ins{f: jump(jgtK, vhi, 3, 0)},
				ins{f: jump(jeqK, vhi, 0, 0), ff: true},
				ld(lo), ins{f: jump(loOp, vlo, 0, 0), ff: true})
		case specs.OpLessThan, specs.OpLessEqual:
			// fail when arg > v (LE) or arg >= v (LT)
			loOp := uint16(jgeK)
			if a.Op == specs.OpLessEqual {
				loOp = jgtK
			}
			body = append(body, ld(hi), ins{f: jump(jgtK, vhi, 0, 0), tf: true},
				ins{f: jump(jeqK, vhi, 0, 2)},
				ld(lo), ins{f: jump(loOp, vlo, 0, 0), tf: true})
		default:
			return nil, fmt.Errorf("argument operator %q is not supported", a.Op)
		}
	}
	// Layout: ld nr; jeq nr else fail; body...; ret act; fail:
	n := len(body)
	out := []unix.SockFilter{stmt(ldAbsW, offNr), jump(jeqK, nr, 0, uint8(n+1))}
	for i, b := range body {
		toFail := uint8(n - i) // skip the rest of body and the ret
		if b.tf {
			b.f.Jt = toFail
		}
		if b.ff {
			b.f.Jf = toFail
		}
		if n-i > 255 {
			return nil, fmt.Errorf("too many argument tests")
		}
		out = append(out, b.f)
	}
	return append(out, stmt(retK, act)), nil
}

// seccompFlags maps the spec's filter flags to seccomp(2)'s.
var seccompFlags = map[specs.LinuxSeccompFlag]uint{
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: 1 << 5,
}

// LoadSeccomp compiles the profile and installs it with seccomp(2)
// SECCOMP_SET_MODE_FILTER. TSYNC applies it to every thread of the
// process, not only the calling one. Without CAP_SYS_ADMIN this needs
// no_new_privs to be set first.
func LoadSeccomp(s *specs.LinuxSeccomp) error {
	if s == nil {
		return nil
	}
	if s.ListenerPath != "" {
		return fmt.Errorf("linux.seccomp.listenerPath: seccomp notify is not supported")
	}
	prog, err := Compile(s)
	if err != nil {
		return err
	}
	flags := uint(unix.SECCOMP_FILTER_FLAG_TSYNC)
	for _, f := range s.Flags {
		v, ok := seccompFlags[f]
		if !ok {
			return fmt.Errorf("linux.seccomp.flags: %q is not supported", f)
		}
		flags |= v
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %w", errno)
	}
	return nil
}
