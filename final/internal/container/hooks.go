package container

import (
	"context"
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/hooks"
	"minibox.dev/final/internal/initproc"
)

// runtimeHooks answers init's "hooks" message during Create: it runs the
// prestart and createRuntime hooks here, in the runtime's namespaces, while
// init waits before pivot_root with every namespace and mount in place. The
// reply carries the state init needs for createContainer and
// startContainer, or the failure that fails the create.
func (c *Container) runtimeHooks(configW *os.File) error {
	st := specs.State{
		Version: specs.Version, ID: c.ID, Status: specs.StateCreating,
		Pid: c.Pid, Bundle: c.Bundle, Annotations: c.Annotations,
	}
	reply := initproc.HookReply{State: st}
	for _, k := range []hooks.Kind{hooks.Prestart, hooks.CreateRuntime} {
		if err := hooks.Run(context.Background(), k, hooks.Of(c.Spec.Hooks, k), &st); err != nil {
			reply.Error = err.Error()
			break
		}
	}
	return json.NewEncoder(configW).Encode(&reply)
}
