package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Version is minibox's version, printed by --version.
const Version = "0.1.0"

// DefaultRoot is where container state lives unless --root says otherwise;
// runc's is /run/runc.
const DefaultRoot = "/run/minibox"

// Global holds the flags that come before the verb, as runc takes them:
// `minibox --root R --log F --log-format json create ...`.
type Global struct {
	Root      string
	LogFile   string
	LogFormat string
	Debug     bool
	log       *logger
	logFile   *os.File
	stdout    io.Writer
	stderr    io.Writer
}

// ctx is the context hooks run under; hooks bound themselves with their
// own timeouts.
func (g *Global) ctx() context.Context { return context.Background() }

// Command is one verb.
type Command struct {
	Name    string
	Args    string // the usage line after the name
	Summary string
	// Run does the work. An *ExitError sets the exit code without a message
	// (a container's own status); any other error prints one line and
	// exits 125.
	Run    func(g *Global, args []string) error
	Hidden bool // internal re-exec entry points
}

// ExitError is a command's exit code that is not a failure of minibox:
// `run` returning the container's status.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// UsageError is bad input: a missing argument or an unknown flag. It is
// reported like any error, with a hint to --help.
type UsageError struct {
	Cmd string
	Msg string
}

func (e *UsageError) Error() string {
	if e.Cmd == "" {
		return e.Msg + " (see minibox --help)"
	}
	return fmt.Sprintf("%s: %s (see minibox %s --help)", e.Cmd, e.Msg, e.Cmd)
}

// commands lists every verb. Hidden ones are re-exec entry points.
func commands() []*Command {
	return []*Command{
		runCommand(),
		createCommand(),
		startCommand(),
		stateCommand(),
		killCommand(),
		deleteCommand(),
		execCommand(),
		psCommand(),
		listCommand(),
		pauseCommand(),
		resumeCommand(),
		specCommand(),
		featuresCommand(),
		execInitCommand(),
	}
}

// Main runs the command line and returns the process's exit code.
func Main(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	g := &Global{stdout: stdout, stderr: stderr}
	err := g.dispatch(args[1:])
	if g.logFile != nil {
		// Closed only after the error below is logged.
		defer g.logFile.Close()
	}
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	g.log.Errorf("%s", err)
	g.printErr(err)
	return 125
}

// printErr prints an error as minibox's one line on stderr.
func (g *Global) printErr(err error) {
	fmt.Fprintf(g.stderr, "minibox: %s\n", err)
}

func (g *Global) dispatch(args []string) error {
	fs := flag.NewFlagSet("minibox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.Root, "root", DefaultRoot, "")
	fs.StringVar(&g.LogFile, "log", "", "")
	fs.StringVar(&g.LogFormat, "log-format", "text", "")
	fs.BoolVar(&g.Debug, "debug", false, "")
	systemd := fs.Bool("systemd-cgroup", false, "")
	version := fs.Bool("version", false, "")
	fs.BoolVar(version, "v", false, "")
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	if err := fs.Parse(args); err != nil {
		return &UsageError{Msg: flagError(err)}
	}
	// A relative --root would name another directory from another
	// working directory; the state must be found by every later call.
	root, err := filepath.Abs(g.Root)
	if err != nil {
		return fmt.Errorf("--root %s: %w", g.Root, err)
	}
	g.Root = root
	if g.LogFormat != "text" && g.LogFormat != "json" {
		return &UsageError{Msg: fmt.Sprintf("--log-format %q: want text or json", g.LogFormat)}
	}
	g.log = &logger{json: g.LogFormat == "json", debug: g.Debug, now: time.Now}
	if g.LogFile != "" {
		f, err := openLog(g.LogFile)
		if err != nil {
			return err
		}
		g.logFile = f
		g.log.w = f
	} else if g.Debug {
		g.log.w = g.stderr
	}
	if *systemd {
		return errors.New("--systemd-cgroup: not supported: minibox manages cgroups through cgroupfs only (use --cgroup-manager=cgroupfs with podman, SystemdCgroup = false with containerd)")
	}
	if *version {
		fmt.Fprintf(g.stdout, "minibox version %s\nspec: %s\n", Version, specs.Version)
		return nil
	}
	rest := fs.Args()
	if *help || len(rest) == 0 || rest[0] == "help" {
		g.usage()
		if len(rest) == 0 && !*help {
			return &UsageError{Msg: "no command given"}
		}
		return nil
	}
	for _, c := range commands() {
		if c.Name == rest[0] {
			g.log.Debugf("%s %s", c.Name, strings.Join(rest[1:], " "))
			return c.Run(g, rest[1:])
		}
	}
	return &UsageError{Msg: fmt.Sprintf("unknown command %q", rest[0])}
}

func (g *Global) usage() {
	fmt.Fprintf(g.stdout, `usage: minibox [GLOBAL FLAGS] COMMAND [ARGS...]

minibox is a small OCI container runtime: a docker-like "run" for people,
and runc's command line for podman, containerd and other clients.

Commands:
`)
	for _, c := range commands() {
		if !c.Hidden {
			fmt.Fprintf(g.stdout, "  %-9s %s\n", c.Name, c.Summary)
		}
	}
	fmt.Fprintf(g.stdout, `
Global flags (before the command):
  --root DIR          container state directory (default %s)
  --log FILE          also write errors (and --debug lines) to FILE
  --log-format FMT    text (default) or json: {"level":...,"msg":...,"time":...}
  --debug             log each command and its steps
  --systemd-cgroup    not supported (cgroupfs only): a clear error
  --version, --help

Run "minibox COMMAND --help" for a command's flags.
`, DefaultRoot)
}

// flags is the per-verb flag parser: Go's flag package, as runc's does,
// flags before positional arguments; -x and --x are the same.
type flags struct {
	*flag.FlagSet
	cmd *Command
}

func newFlags(c *Command) *flags {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{FlagSet: fs, cmd: c}
}

// parse parses args and checks the number of positional arguments is
// between min and max (max < 0: no limit). It returns errHelp for --help,
// after printing the usage.
func (f *flags) parse(g *Global, args []string, min, max int) ([]string, error) {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			f.usage(g.stdout)
			return nil, errHelp
		}
		return nil, &UsageError{Cmd: f.cmd.Name, Msg: flagError(err)}
	}
	rest := f.Args()
	switch {
	case len(rest) < min && min == 1 && strings.Contains(f.cmd.Args, "ID"):
		return nil, &UsageError{Cmd: f.cmd.Name, Msg: "missing container ID"}
	case len(rest) < min:
		return nil, &UsageError{Cmd: f.cmd.Name, Msg: fmt.Sprintf("want %s", f.cmd.Args)}
	case max >= 0 && len(rest) > max:
		return nil, &UsageError{Cmd: f.cmd.Name, Msg: fmt.Sprintf("unexpected argument %q (want %s)", rest[max], f.cmd.Args)}
	}
	return rest, nil
}

func (f *flags) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: minibox %s %s\n\n%s\n", f.cmd.Name, f.cmd.Args, f.cmd.Summary)
	var b strings.Builder
	f.VisitAll(func(fl *flag.Flag) {
		if fl.Usage == "" {
			return // an alias: documented with its long name
		}
		fmt.Fprintf(&b, "  --%-22s %s\n", fl.Name+valueHint(fl), fl.Usage)
	})
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", b.String())
	}
}

func valueHint(fl *flag.Flag) string {
	if bf, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
		return ""
	}
	return " VALUE"
}

// errHelp ends a command successfully after --help printed its usage.
var errHelp = &ExitError{Code: 0}

// flagError turns the flag package's messages into our one-line style.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + name
	}
	return msg
}
