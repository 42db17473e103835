package cli

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/cgroups"
)

func killCommand() *Command {
	c := &Command{Name: "kill", Args: "[--all] ID [SIGNAL]",
		Summary: "send a signal (default SIGTERM) to a container's process"}
	c.Run = func(g *Global, args []string) error {
		f := newFlags(c)
		all := f.Bool("all", false, "signal every process of the container, not only its init")
		f.BoolVar(all, "a", false, "")
		rest, err := f.parse(g, args, 1, 2)
		if err != nil {
			return err
		}
		sig := unix.SIGTERM
		if len(rest) == 2 {
			if sig, err = parseSignal(rest[1]); err != nil {
				return &UsageError{Cmd: "kill", Msg: err.Error()}
			}
		}
		ct, err := load(g, rest[0])
		if err != nil {
			return err
		}
		// Only a container with a live process can be signalled; the
		// words "container not running" are what containerd's shim
		// recognises as "already gone".
		st := ct.StatusWithPause()
		if st == specs.StateStopped || st == specs.StateCreating {
			return fmt.Errorf("container %s: container not running (status %s)", ct.ID, st)
		}
		if *all {
			cg, err := cgroups.Load(ct.CgroupPath)
			if err != nil {
				return err
			}
			pids, err := cg.Pids()
			if err != nil {
				return fmt.Errorf("kill --all %s: %w", ct.ID, err)
			}
			for _, p := range pids {
				// kill(2) each process of the cgroup; one that has just
				// exited (ESRCH) is not an error.
				if err := unix.Kill(p, sig); err != nil && err != unix.ESRCH {
					return fmt.Errorf("kill %d: %w", p, err)
				}
			}
		} else if err := ct.Signal(sig); err != nil {
			return err
		}
		if sig == unix.SIGKILL {
			// A frozen process keeps a pending SIGKILL until thawed
			// (cgroup v1): let it die.
			return ct.Unfreeze()
		}
		return nil
	}
	return c
}
