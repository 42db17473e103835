package cli

import (
	"encoding/json"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/container"
)

func stateCommand() *Command {
	return idCommand("state", "print a container's state as the runtime-spec's JSON",
		func(g *Global, ct *container.Container) error { return printJSON(g, stateJSON(ct)) })
}

// stateOutput is the spec's State plus what runc adds and clients such as
// go-runc read: the rootfs and the creation time.
type stateOutput struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
}

func stateJSON(c *container.Container) stateOutput {
	return stateOutput{State: stateOf(c), Rootfs: c.Rootfs, Created: c.Created}
}

func printJSON(g *Global, v any) error {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = g.stdout.Write(append(out, '\n'))
	return err
}
