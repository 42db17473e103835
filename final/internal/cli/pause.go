package cli

import "minibox.dev/final/internal/container"

func pauseCommand() *Command {
	return idCommand("pause", "freeze every process of a container (cgroup freezer)",
		func(_ *Global, ct *container.Container) error { return ct.Pause() })
}

func resumeCommand() *Command {
	return idCommand("resume", "thaw a paused container",
		func(_ *Global, ct *container.Container) error { return ct.Resume() })
}
