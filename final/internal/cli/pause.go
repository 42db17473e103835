package cli

func pauseCommand() *Command {
	c := &Command{Name: "pause", Args: "ID",
		Summary: "freeze every process of a container (cgroup freezer)"}
	c.Run = func(g *Global, args []string) error {
		rest, err := newFlags(c).parse(g, args, 1, 1)
		if err != nil {
			return err
		}
		ct, err := load(g, rest[0])
		if err != nil {
			return err
		}
		return ct.Pause()
	}
	return c
}

func resumeCommand() *Command {
	c := &Command{Name: "resume", Args: "ID",
		Summary: "thaw a paused container"}
	c.Run = func(g *Global, args []string) error {
		rest, err := newFlags(c).parse(g, args, 1, 1)
		if err != nil {
			return err
		}
		ct, err := load(g, rest[0])
		if err != nil {
			return err
		}
		return ct.Resume()
	}
	return c
}
