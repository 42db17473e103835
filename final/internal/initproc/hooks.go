package initproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/hooks"
)

// HookReply is the parent's answer to a "hooks" Message: the container's
// state for the hooks init runs itself, or the error of a prestart or
// createRuntime hook, which fails the create.
type HookReply struct {
	State specs.State `json:"state"`
	Error string      `json:"error,omitempty"`
}

// hookState is the container's state, kept from the createRuntime
// exchange for the startContainer hooks. nil when the config has none of
// the hooks that involve init.
var hookState *specs.State

// needsHooks reports whether init must stop before pivot_root for hooks.
func needsHooks(h *specs.Hooks) bool {
	if h == nil {
		return false
	}
	return len(h.Prestart) > 0 || len(h.CreateRuntime) > 0 || //nolint:staticcheck // prestart is deprecated, still honoured
		len(h.CreateContainer) > 0 || len(h.StartContainer) > 0
}

// beforePivot is rootfs's BeforePivot: every mount is in place and the old
// root is still reachable. In the runtime-spec's order:
//
//  1. init asks the parent ("hooks" on the sync pipe), which runs the
//     prestart and createRuntime hooks in the runtime's namespaces and
//     answers with the state (or their error) on the config pipe;
//  2. init runs the createContainer hooks itself: in the container's
//     namespaces, with paths that still resolve on the host's filesystem
//     because pivot_root has not happened yet.
func beforePivot(s *specs.Spec, dec *json.Decoder) error {
	if !needsHooks(s.Hooks) {
		return nil
	}
	msg, err := json.Marshal(Message{Type: "hooks"})
	if err != nil {
		return err
	}
	// write(2) on the sync pipe directly: Main holds the *os.File for it,
	// and a second one would close the descriptor when collected.
	if _, err := unix.Write(FdSync, append(msg, '\n')); err != nil {
		return fmt.Errorf("ask parent for hooks: %w", err)
	}
	var reply HookReply
	if err := dec.Decode(&reply); err != nil {
		return fmt.Errorf("read hook reply from parent: %w", err)
	}
	if reply.Error != "" {
		return errors.New(reply.Error)
	}
	hookState = &reply.State
	return hooks.Run(context.Background(), hooks.CreateContainer, s.Hooks.CreateContainer, hookState)
}

// startHooks runs the startContainer hooks: during `start`, after the exec
// fifo opened and before the user's program runs, inside the container
// (paths resolve in its root). A failure leaves the fifo without its byte,
// so `start` fails too.
func startHooks(s *specs.Spec) error {
	if s.Hooks == nil || len(s.Hooks.StartContainer) == 0 || hookState == nil {
		return nil
	}
	st := *hookState
	st.Status = specs.StateCreated
	return hooks.Run(context.Background(), hooks.StartContainer, s.Hooks.StartContainer, &st)
}
