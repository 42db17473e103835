package initproc

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/rootfs"
)

// The descriptors the parent passes (os/exec ExtraFiles start at 3).
const (
	FdConfig  = 3 // read: the Config as JSON, then EOF
	FdSync    = 4 // write: one Message
	FdFifo    = 5 // O_PATH descriptor of the exec fifo
	FdConsole = 6 // unix socket for the pty master (only with a terminal)
)

// Config is everything init needs, sent by the parent as JSON.
type Config struct {
	Spec    *specs.Spec
	Rootfs  string          // absolute host path of root.path
	Overlay *rootfs.Overlay // the writable layer, nil for none
	// Cgroup layout, for mounting the container's /sys/fs/cgroup.
	CgroupV1      map[string]string
	CgroupV2      bool
	CgroupUnified bool
	UnshareCgroup bool                   // unshare(CLONE_NEWCGROUP) first
	Join          []specs.LinuxNamespace // namespaces to setns(2) into
	NewNet        bool                   // a new network namespace: bring lo up
	NewUTS        bool                   // a new UTS namespace: set the hostname
	Init          bool                   // stay PID 1 and reap (--init)
	Pdeathsig     bool                   // die with the parent (minibox run)
}

// Message is init's report on the sync pipe.
type Message struct {
	Type  string `json:"type"` // "ready" or "error"
	Error string `json:"error,omitempty"`
	// Code is the exit status the error deserves: 127 command not found,
	// 126 not executable, 125 anything else.
	Code int `json:"code,omitempty"`
}
