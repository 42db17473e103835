package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"minibox.dev/final/internal/container"
)

func listCommand() *Command {
	c := &Command{Name: "list", Args: "[--format table|json] [--quiet]",
		Summary: "list the containers under --root"}
	c.Run = func(g *Global, args []string) error {
		f := newFlags(c)
		format := f.String("format", "table", "table or json")
		f.StringVar(format, "f", "table", "")
		quiet := f.Bool("quiet", false, "print only the IDs")
		f.BoolVar(quiet, "q", false, "")
		if _, err := f.parse(g, args, 0, 0); err != nil {
			return err
		}
		if *format != "table" && *format != "json" {
			return &UsageError{Cmd: "list", Msg: fmt.Sprintf("--format %q: want table or json", *format)}
		}
		list, err := container.List(g.Root)
		if err != nil {
			return fmt.Errorf("list %s: %w", g.Root, err)
		}
		if *quiet {
			for _, c := range list {
				fmt.Fprintln(g.stdout, c.ID)
			}
			return nil
		}
		if *format == "json" {
			out := make([]stateOutput, 0, len(list))
			for _, c := range list {
				out = append(out, stateJSON(c))
			}
			return printJSON(g, out)
		}
		w := tabwriter.NewWriter(g.stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED")
		for _, c := range list {
			s := stateOf(c)
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle,
				c.Created.Local().Format(time.RFC3339))
		}
		return w.Flush()
	}
	return c
}
