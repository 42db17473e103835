package cli

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/cgroups"
)

func psCommand() *Command {
	c := &Command{Name: "ps", Args: "[--format table|json] ID",
		Summary: "list the processes of a container (host pids)"}
	c.Run = func(g *Global, args []string) error {
		f := newFlags(c)
		format := f.String("format", "table", "table, or json: an array of pids (what containerd reads)")
		f.StringVar(format, "f", "table", "")
		rest, err := f.parse(g, args, 1, 1)
		if err != nil {
			return err
		}
		if *format != "table" && *format != "json" {
			return &UsageError{Cmd: "ps", Msg: fmt.Sprintf("--format %q: want table or json", *format)}
		}
		ct, err := load(g, rest[0])
		if err != nil {
			return err
		}
		if st := ct.StatusWithPause(); st == specs.StateStopped {
			return fmt.Errorf("container %s: container not running", ct.ID)
		}
		cg, err := cgroups.Load(ct.CgroupPath)
		if err != nil {
			return err
		}
		pids, err := cg.Pids()
		if err != nil {
			return fmt.Errorf("ps %s: %w", ct.ID, err)
		}
		if pids == nil {
			pids = []int{}
		}
		if *format == "json" {
			return printJSON(g, pids)
		}
		w := tabwriter.NewWriter(g.stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(w, "PID\tPPID\tSTAT\tCMD")
		for _, p := range pids {
			ppid, stat := procStat(p)
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", p, ppid, stat, procCmdline(p))
		}
		return w.Flush()
	}
	return c
}

// procStat reads the parent pid and state letter from /proc/PID/stat
// (proc(5)); "?" for a process that has gone meanwhile.
func procStat(pid int) (ppid, state string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "?", "?"
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "?", "?"
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return "?", "?"
	}
	return f[1], f[0]
}

// procCmdline is the command line of pid, NUL-separated in /proc/PID/cmdline.
func procCmdline(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return "?"
	}
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}
