package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/container"
	"minibox.dev/final/internal/hooks"
)

func deleteCommand() *Command {
	c := &Command{Name: "delete", Args: "[--force] ID",
		Summary: "delete a container: its process (created, or running with --force), cgroup and state"}
	c.Run = func(g *Global, args []string) error {
		f := newFlags(c)
		force := f.Bool("force", false, "kill a running or paused container first")
		f.BoolVar(force, "f", false, "")
		rest, err := f.parse(g, args, 1, 1)
		if err != nil {
			return err
		}
		id := rest[0]
		ct, err := load(g, id)
		if errors.Is(err, container.ErrNotExist) && *force {
			// As runc: a forced delete of an unknown container succeeds
			// (clients call it to be sure), after removing a state
			// directory that a failed create may have left without
			// state.json.
			if container.ValidID(id) == nil {
				_ = os.RemoveAll(filepath.Join(g.Root, id))
			}
			return nil
		}
		if err != nil {
			return err
		}
		return deleteContainer(g, ct, *force)
	}
	return c
}

// deleteContainer applies the spec's rules: a stopped or created container
// is deleted (a created one is killed first); a running or paused one only
// with force. The poststop hooks run afterwards.
func deleteContainer(g *Global, c *container.Container, force bool) error {
	st := c.StatusWithPause()
	if (st == specs.StateRunning || st == container.StatePaused) && !force {
		return fmt.Errorf("container %s is %s: stop it first, or delete --force", c.ID, st)
	}
	if st == container.StatePaused {
		_ = c.Signal(unix.SIGKILL)
		if err := c.Unfreeze(); err != nil {
			return err
		}
	}
	final := stateOf(c)
	if err := c.Delete(true); err != nil {
		return err
	}
	final.Status = specs.StateStopped
	return runHooks(g, c, hooks.Poststop, final)
}
