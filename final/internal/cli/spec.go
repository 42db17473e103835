package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"minibox.dev/final/internal/spec"
)

func specCommand() *Command {
	c := &Command{Name: "spec", Args: "[--rootless] [--bundle DIR]",
		Summary: "write a default config.json into the bundle directory, like runc spec"}
	c.Run = func(g *Global, args []string) error {
		f := newFlags(c)
		rootless := f.Bool("rootless", false, "a config for an unprivileged user (a user namespace mapping you to root)")
		bundle := f.String("bundle", ".", "the bundle directory to write config.json in")
		f.StringVar(bundle, "b", ".", "")
		if _, err := f.parse(g, args, 0, 0); err != nil {
			return err
		}
		s := spec.Default()
		if *rootless {
			spec.Rootless(s, uint32(os.Geteuid()), uint32(os.Getegid()))
		}
		data, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return fmt.Errorf("encode config: %w", err)
		}
		path := filepath.Join(*bundle, "config.json")
		// O_EXCL: never overwrite a config someone edited.
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists: remove it first", path)
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
		if _, err := out.Write(append(data, '\n')); err != nil {
			out.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		return out.Close()
	}
	return c
}
