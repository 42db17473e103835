package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Kind names a point of the lifecycle, as in config.json's "hooks" object.
type Kind string

// The hook kinds of the runtime-spec, in the order they happen.
const (
	Prestart        Kind = "prestart"
	CreateRuntime   Kind = "createRuntime"
	CreateContainer Kind = "createContainer"
	StartContainer  Kind = "startContainer"
	Poststart       Kind = "poststart"
	Poststop        Kind = "poststop"
)

// Fatal reports whether a failing hook of this kind must fail the operation
// (create or start). poststart and poststop failures are warnings.
func (k Kind) Fatal() bool { return k != Poststart && k != Poststop }

// Of returns the hooks of one kind from a config's hooks (nil-safe).
func Of(h *specs.Hooks, k Kind) []specs.Hook {
	if h == nil {
		return nil
	}
	switch k {
	case Prestart:
		return h.Prestart //nolint:staticcheck // deprecated in the spec, still honoured
	case CreateRuntime:
		return h.CreateRuntime
	case CreateContainer:
		return h.CreateContainer
	case StartContainer:
		return h.StartContainer
	case Poststart:
		return h.Poststart
	case Poststop:
		return h.Poststop
	}
	return nil
}

// Error is a failed hook: which one, and what it printed.
type Error struct {
	Kind   Kind
	Index  int
	Path   string
	Output string
	Err    error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s hook #%d (%s): %v", e.Kind, e.Index, e.Path, e.Err)
	if out := strings.TrimSpace(e.Output); out != "" {
		msg += ": " + strings.ReplaceAll(out, "\n", " ")
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs the hooks of kind k in order, each with state as JSON on stdin,
// and stops at the first failure. Callers decide with k.Fatal() whether the
// error fails the operation or is only logged.
func Run(ctx context.Context, k Kind, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	input, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("%s hooks: encode state: %w", k, err)
	}
	for i, h := range hooks {
		if err := runOne(ctx, h, input); err != nil {
			var out string
			var oe *outputError
			if errors.As(err, &oe) {
				out, err = oe.output, oe.err
			}
			return &Error{Kind: k, Index: i, Path: h.Path, Output: out, Err: err}
		}
	}
	return nil
}

// outputError carries a hook's combined output along with its failure.
type outputError struct {
	output string
	err    error
}

func (e *outputError) Error() string { return e.err.Error() }

// Command builds the command of one hook: path, argv (args[0] is argv[0],
// the path when args is empty), exactly the given environment. It is
// separate from Run so the translation is tested without running anything.
func Command(ctx context.Context, h specs.Hook) *exec.Cmd {
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = append([]string(nil), h.Args...)
	}
	// A non-nil, possibly empty Env: os/exec would inherit ours on nil.
	cmd.Env = append([]string{}, h.Env...)
	return cmd
}

func runOne(ctx context.Context, h specs.Hook, input []byte) error {
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("timeout must be positive, got %d", *h.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := Command(ctx, h)
	cmd.Stdin = bytes.NewReader(input)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Without WaitDelay a hook's background child holding the output pipe
	// would keep Wait from returning after the timeout kill.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		return &outputError{output: out.String(), err: err}
	}
	return nil
}
