package v2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The device program sees struct bpf_cgroup_dev_ctx (linux/bpf.h):
//
//	u32 access_type  // (access << 16) | type
//	u32 major
//	u32 minor
//
// type is BPF_DEVCG_DEV_BLOCK (1) or _CHAR (2); access is a mask of
// BPF_DEVCG_ACC_MKNOD (1), _READ (2), _WRITE (4). It returns 1 to allow.
const (
	devBlock = 1
	devChar  = 2
	accMknod = 1
	accRead  = 2
	accWrite = 4
)

// Insn is one eBPF instruction (struct bpf_insn).
type Insn struct {
	Code uint8
	Regs uint8 // dst in the low nibble, src in the high one
	Off  int16
	Imm  int32
}

// eBPF opcodes used here (linux/bpf.h, linux/bpf_common.h).
const (
	ldxW   = 0x61 // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
	mov32X = 0xbc // BPF_ALU | BPF_MOV | BPF_X: dst = (u32)src
	and32K = 0x54 // BPF_ALU | BPF_AND | BPF_K: dst &= imm
	rsh32K = 0x74 // BPF_ALU | BPF_RSH | BPF_K: dst >>= imm
	jneK   = 0x55 // BPF_JMP | BPF_JNE | BPF_K: if dst != imm goto +off
	mov64K = 0xb7 // BPF_ALU64 | BPF_MOV | BPF_K: dst = imm
	exitOp = 0x95 // BPF_JMP | BPF_EXIT: return r0
)

func reg(dst, src uint8) uint8 { return dst | src<<4 }

// DeviceProgram compiles the spec's device rules into an eBPF program.
// As with v1's allow/deny files the last matching rule wins, so rules are
// checked from the last to the first; no match denies. A rule matches
// when type, major and minor match (absent = any) and the requested
// access is a subset of the rule's.
func DeviceProgram(rules []specs.LinuxDeviceCgroup) ([]Insn, error) {
	prog := []Insn{
		{Code: ldxW, Regs: reg(2, 1), Off: 0}, // r2 = access_type
		{Code: mov32X, Regs: reg(3, 2)},       // r3 = r2
		{Code: and32K, Regs: reg(3, 0), Imm: 0xffff},
		{Code: rsh32K, Regs: reg(2, 0), Imm: 16}, // r2 = access
		{Code: ldxW, Regs: reg(4, 1), Off: 4},    // r4 = major
		{Code: ldxW, Regs: reg(5, 1), Off: 8},    // r5 = minor
	}
	for i := len(rules) - 1; i >= 0; i-- {
		block, err := ruleBlock(rules[i])
		if err != nil {
			return nil, err
		}
		prog = append(prog, block...)
		if len(block) == 2 {
			// A rule without tests matches every access: the rules
			// before it can never be reached, and the verifier rejects
			// unreachable instructions.
			return prog, nil
		}
	}
	return append(prog, Insn{Code: mov64K, Regs: reg(0, 0), Imm: 0}, Insn{Code: exitOp}), nil
}

// ruleBlock is the check for one rule; each failed test jumps past the
// block's end to the next rule.
func ruleBlock(d specs.LinuxDeviceCgroup) ([]Insn, error) {
	var checks []Insn
	switch d.Type {
	case "", "a":
	case "c":
		checks = append(checks, Insn{Code: jneK, Regs: reg(3, 0), Imm: devChar})
	case "b":
		checks = append(checks, Insn{Code: jneK, Regs: reg(3, 0), Imm: devBlock})
	default:
		return nil, fmt.Errorf("linux.resources.devices: type %q: want a, b or c", d.Type)
	}
	var mask int32
	access := d.Access
	if access == "" {
		access = "rwm"
	}
	for _, c := range access {
		switch c {
		case 'r':
			mask |= accRead
		case 'w':
			mask |= accWrite
		case 'm':
			mask |= accMknod
		default:
			return nil, fmt.Errorf("linux.resources.devices: access %q: want letters of rwm", d.Access)
		}
	}
	if mask != accRead|accWrite|accMknod {
		// r6 = access & ^mask must be 0: nothing outside the rule asked.
		checks = append(checks,
			Insn{Code: mov32X, Regs: reg(6, 2)},
			Insn{Code: and32K, Regs: reg(6, 0), Imm: ^mask & 7},
			Insn{Code: jneK, Regs: reg(6, 0), Imm: 0})
	}
	if d.Major != nil && *d.Major >= 0 {
		checks = append(checks, Insn{Code: jneK, Regs: reg(4, 0), Imm: int32(*d.Major)})
	}
	if d.Minor != nil && *d.Minor >= 0 {
		checks = append(checks, Insn{Code: jneK, Regs: reg(5, 0), Imm: int32(*d.Minor)})
	}
	allow := int32(0)
	if d.Allow {
		allow = 1
	}
	block := append(checks, Insn{Code: mov64K, Regs: reg(0, 0), Imm: allow}, Insn{Code: exitOp})
	for i := range checks {
		if checks[i].Code == jneK {
			block[i].Off = int16(len(block) - i - 1)
		}
	}
	return block, nil
}

// bpfProgLoadAttr is the BPF_PROG_LOAD part of union bpf_attr.
type bpfProgLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
}

// bpfProgAttachAttr is the BPF_PROG_ATTACH part of union bpf_attr.
type bpfProgAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

// AttachDeviceFilter loads the program for rules and attaches it to the
// cgroup directory dir. The attachment holds the program, so its fd is
// closed at once; it is released when the cgroup is removed.
func AttachDeviceFilter(dir string, rules []specs.LinuxDeviceCgroup) error {
	insns, err := DeviceProgram(rules)
	if err != nil {
		return err
	}
	code := make([]byte, 8*len(insns))
	for i, in := range insns {
		b := code[8*i:]
		b[0], b[1] = in.Code, in.Regs
		binary.LittleEndian.PutUint16(b[2:], uint16(in.Off))
		binary.LittleEndian.PutUint32(b[4:], uint32(in.Imm))
	}
	license := []byte("Apache-2.0\x00")
	fd, err := retryEAGAIN(loadAttempts, func() (uintptr, error) {
		return loadProgram(code, len(insns), license, nil)
	})
	if err != nil {
		// Load again with the verifier's log, only to explain the error:
		// a log that does not fit its buffer fails the load (ENOSPC).
		logBuf := make([]byte, 1<<16)
		_, _ = loadProgram(code, len(insns), license, logBuf)
		return fmt.Errorf("bpf(BPF_PROG_LOAD) device filter: %w: %s", err, strings.TrimSpace(cstring(logBuf)))
	}
	defer unix.Close(int(fd))

	cg, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	defer cg.Close()
	attach := bpfProgAttachAttr{
		targetFd:    uint32(cg.Fd()),
		attachBpfFd: uint32(fd),
		attachType:  unix.BPF_CGROUP_DEVICE,
		// ALLOW_MULTI: programs attached by ancestors (systemd's) stay
		// in force too; a device must pass all of them.
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	// bpf(2) BPF_PROG_ATTACH runs the program on every device access by a
	// task in this cgroup or below.
	if _, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_ATTACH, uintptr(unsafe.Pointer(&attach)), unsafe.Sizeof(attach)); errno != 0 {
		return fmt.Errorf("bpf(BPF_PROG_ATTACH) device filter to %s: %w", dir, errno)
	}
	return nil
}

// loadAttempts bounds the retries of BPF_PROG_LOAD (libbpf makes 5).
const loadAttempts = 5

// retryEAGAIN calls load until it succeeds, fails with anything but
// EAGAIN, or has been tried attempts times. bpf(2) documents EAGAIN for a
// transient failure of BPF_PROG_LOAD: the verifier gives up with it when
// a signal is pending, and the Go runtime signals its threads (SIGURG, to
// preempt goroutines) at any time. Trying again at once is right; a
// bound keeps a kernel that keeps saying EAGAIN from hanging minibox.
func retryEAGAIN(attempts int, load func() (uintptr, error)) (uintptr, error) {
	var err error
	for range attempts {
		var fd uintptr
		if fd, err = load(); !errors.Is(err, unix.EAGAIN) {
			return fd, err
		}
	}
	return 0, fmt.Errorf("%w (tried %d times)", err, attempts)
}

// loadProgram runs bpf(2) BPF_PROG_LOAD, which verifies the program and
// returns its fd; with logBuf the verifier writes its reasoning there.
func loadProgram(code []byte, n int, license, logBuf []byte) (uintptr, error) {
	load := bpfProgLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(n),
		insns:    uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	if len(logBuf) > 0 {
		load.logLevel = 1
		load.logSize = uint32(len(logBuf))
		load.logBuf = uint64(uintptr(unsafe.Pointer(&logBuf[0])))
	}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&load)), unsafe.Sizeof(load))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	runtime.KeepAlive(logBuf)
	if errno != 0 {
		return 0, errno
	}
	return fd, nil
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
