package cli

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/container"
	"minibox.dev/final/internal/hooks"
)

func startCommand() *Command {
	return idCommand("start", "start a created container: its program runs", startContainer)
}

// startContainer lets a created container's program run, then runs the
// poststart hooks. Only "created" can start: the spec makes starting a
// running or stopped container an error.
func startContainer(g *Global, c *container.Container) error {
	switch st := c.StatusWithPause(); st {
	case specs.StateCreated:
	case specs.StateStopped:
		return fmt.Errorf("container %s: cannot start a container that has stopped", c.ID)
	case specs.StateRunning, container.StatePaused:
		return fmt.Errorf("container %s: cannot start an already running container", c.ID)
	default:
		return fmt.Errorf("container %s: cannot start a container that is %s", c.ID, st)
	}
	if err := c.Start(); err != nil {
		return err
	}
	return runHooks(g, c, hooks.Poststart, stateOf(c))
}
