package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/cgroups"
)

// StatePaused is runc's status for a frozen container. The runtime-spec
// has only creating, created, running and stopped; podman and containerd
// expect "paused" from `state` after `pause`.
const StatePaused specs.ContainerState = "paused"

// pausedMarker exists in the state directory while the cgroup is frozen,
// so every later minibox command reports "paused".
const pausedMarker = "paused"

// Paused reports whether Pause froze the container and Resume has not
// thawed it yet.
func (c *Container) Paused() bool {
	_, err := os.Stat(filepath.Join(c.dir, pausedMarker))
	return err == nil
}

// StatusWithPause is Status, with "paused" for a frozen running container.
func (c *Container) StatusWithPause() specs.ContainerState {
	st := c.Status()
	if st == specs.StateRunning && c.Paused() {
		return StatePaused
	}
	return st
}

// Pause freezes every process of the container with the cgroup freezer
// (v1 freezer.state, v2 cgroup.freeze): they stop where they are, without
// being signalled, until Resume.
func (c *Container) Pause() error {
	switch st := c.StatusWithPause(); st {
	case specs.StateRunning:
	case StatePaused:
		return fmt.Errorf("container %s is already paused", c.ID)
	default:
		return fmt.Errorf("container %s is %s: only a running container can be paused", c.ID, st)
	}
	cg, err := cgroups.Load(c.CgroupPath)
	if err != nil {
		return err
	}
	if err := cg.Freeze(); err != nil {
		return fmt.Errorf("pause %s: %w", c.ID, err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, pausedMarker), nil, 0o600); err != nil {
		_ = cg.Thaw()
		return fmt.Errorf("pause %s: %w", c.ID, err)
	}
	return nil
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if st := c.StatusWithPause(); st != StatePaused {
		return fmt.Errorf("container %s is %s, not paused", c.ID, st)
	}
	return c.thaw()
}

// thaw thaws the cgroup and forgets the pause, whatever the status; Delete
// needs it because on cgroup v1 a frozen process does not die of SIGKILL
// until it is thawed.
func (c *Container) thaw() error {
	cg, err := cgroups.Load(c.CgroupPath)
	if err != nil {
		return err
	}
	if err := cg.Thaw(); err != nil {
		return fmt.Errorf("resume %s: %w", c.ID, err)
	}
	if err := os.Remove(filepath.Join(c.dir, pausedMarker)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("resume %s: %w", c.ID, err)
	}
	return nil
}

// Unfreeze makes sure a container that may be paused can die: it thaws it
// if it was paused. Call it after sending SIGKILL and before Delete.
func (c *Container) Unfreeze() error {
	if !c.Paused() {
		return nil
	}
	return c.thaw()
}
