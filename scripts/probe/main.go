// Command probe reports what a process sees from where it runs, and tries
// one thing at a time that isolation should allow or forbid.
//
// minibox's tests and tour run it inside a container (the rootfs installs it
// as /bin/probe) and on the host, then compare. It is built static
// (CGO_ENABLED=0) so it runs in a root filesystem without a C library.
//
// Output is key=value, one per line, in a fixed order; lists are
// comma-separated without spaces; a value that cannot be read is
// "unavailable". The contract lives in CONTRIBUTING.md ("The probe").
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// unavailable is the value of every key the probe could not read, for
// example the cgroup limits when /sys/fs/cgroup is not mounted.
const unavailable = "unavailable"

// markerPath exists only at the top of minibox's rootfs, never on a host:
// seeing it tells a process that its / is the rootfs.
const markerPath = "/.minibox-rootfs"

// cgroupRoot is where cgroupfs is mounted on every distribution minibox
// supports (v2 unified, v1 per controller, or hybrid).
const cgroupRoot = "/sys/fs/cgroup"

const usage = `usage: probe [report] [--json]
       probe ACTION [ARG...]

Without an action (or with "report") probe prints what this process sees,
one key=value per line in this order:
  pid ppid uid gid hostname procs nprocs root marker mounts nmounts cgroup
  memory_max pids_max cpu_max capeff nonewprivs seccomp netns_links
--json prints the same report as one JSON object (all values are strings).

Actions print key=value lines ending with result=ok or result=ERRNO
(e.g. result=EPERM) and exit 0 on success, 1 on the failure they report:
  alloc MIB             allocate MIB MiB and touch every page (allocated=MIB)
  fork N                fork N sleeping children (forked=K, fork_error=...),
                        then kill and reap them; exit 0 only if K == N
  escape                try the classic chroot escape: escape=host when it
                        reached a / without /.minibox-rootfs, else contained
  exit N                exit with status N
  sleep SECONDS         sleep (fractions allowed), then exit 0
  kill-self SIGNAL      send SIGNAL (KILL, SIGKILL or 9) to itself
  hostname NAME         sethostname(2)
  open PATH [r|w]       open(2) PATH for reading (default) or writing
  mount [DIR]           mount(2) a tmpfs on DIR, then unmount it (default:
                        /tmp in the rootfs, else a new directory in /tmp)
  mknod PATH MAJ MIN    mknod(2) a character device, then remove it
  read PATH             read PATH (bytes=N, data=first 4 KiB, \n escaped)
  write PATH DATA       write DATA to PATH (created if missing)
  kill PID SIGNAL       kill(2)
  ptrace PID            ptrace(2) PTRACE_SEIZE, released when probe exits
  modload               init_module(2) with an empty image: the kernel
                        rejects the image (ENOEXEC or EINVAL) only after the
                        permission check, so that counts as result=ok

Bad usage prints one line on stderr and exits 2.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to the report or to one action and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if isReport(args) {
		asJSON := slices.Contains(args, "--json")
		kvs := report()
		if asJSON {
			fmt.Fprintln(stdout, formatJSON(kvs))
		} else {
			fmt.Fprint(stdout, formatText(kvs))
		}
		return 0
	}
	a, ok := actions[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "probe: unknown action %q (see probe --help)\n", args[0])
		return 2
	}
	if len(args)-1 < a.minArgs || len(args)-1 > a.maxArgs {
		fmt.Fprintf(stderr, "probe: usage: probe %s %s\n", args[0], a.usage)
		return 2
	}
	kvs, err := a.run(args[1:])
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "probe: %s: %v\n", args[0], err)
		return 2
	}
	fmt.Fprint(stdout, formatText(kvs))
	if err != nil {
		fmt.Fprintf(stdout, "result=%s\n", errnoName(err))
		return 1
	}
	fmt.Fprintln(stdout, "result=ok")
	return 0
}

// isReport tells whether args ask for the report: none, "report", "--json"
// or "report --json" in either order.
func isReport(args []string) bool {
	for _, a := range args {
		if a != "report" && a != "--json" {
			return false
		}
	}
	return len(args) <= 2
}

// kv is one line of output. A slice of them keeps the contract's order,
// which a map would lose.
type kv struct{ key, value string }

func formatText(kvs []kv) string {
	var b strings.Builder
	for _, p := range kvs {
		fmt.Fprintf(&b, "%s=%s\n", p.key, p.value)
	}
	return b.String()
}

// formatJSON writes the report as one object, keys in the report's order.
// encoding/json would sort the keys of a map, so the object is built here.
func formatJSON(kvs []kv) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range kvs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.key)
		v, _ := json.Marshal(p.value)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

// report gathers every key of the contract, in its order.
func report() []kv {
	procs := listProcs("/proc")
	mounts := readMountPoints("/proc/self/mountinfo")
	cgroupText := readTrimmed("/proc/self/cgroup")
	lines, cgErr := parseCgroup(cgroupText)
	limit := func(f func(string, []cgroupLine) string) string {
		if cgErr != nil {
			return unavailable
		}
		return f(cgroupRoot, lines)
	}
	status := readStatus("/proc/self/status")
	cgroupValue := unavailable
	if cgErr == nil {
		cgroupValue = strings.Join(strings.Split(cgroupText, "\n"), ";")
	}
	marker := "no"
	if _, err := os.Lstat(markerPath); err == nil {
		marker = "yes"
	}
	return []kv{
		{"pid", strconv.Itoa(os.Getpid())},
		{"ppid", strconv.Itoa(os.Getppid())},
		{"uid", strconv.Itoa(os.Getuid())},
		{"gid", strconv.Itoa(os.Getgid())},
		{"hostname", hostname()},
		{"procs", joinOr(procs)},
		{"nprocs", countOr(procs)},
		{"root", joinOr(listDir("/"))},
		{"marker", marker},
		{"mounts", joinOr(mounts)},
		{"nmounts", countOr(mounts)},
		{"cgroup", cgroupValue},
		{"memory_max", limit(memoryMax)},
		{"pids_max", limit(pidsMax)},
		{"cpu_max", limit(cpuMax)},
		{"capeff", fieldOr(status, "CapEff")},
		{"nonewprivs", fieldOr(status, "NoNewPrivs")},
		{"seccomp", fieldOr(status, "Seccomp")},
		{"netns_links", joinOr(netLinks())},
	}
}

// joinOr joins a list with commas; nil means it could not be read.
func joinOr(list []string) string {
	if list == nil {
		return unavailable
	}
	return strings.Join(list, ",")
}

func countOr(list []string) string {
	if list == nil {
		return unavailable
	}
	return strconv.Itoa(len(list))
}

func fieldOr(fields map[string]string, key string) string {
	if v, ok := fields[key]; ok {
		return v
	}
	return unavailable
}

// hostname asks uname(2), which works even without /proc.
func hostname() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return unavailable
	}
	return unix.ByteSliceToString(u.Nodename[:])
}

// listProcs returns the pids in a procfs, ascending. A /proc without
// "self" is an empty directory, not procfs: that is unavailable, not "no
// processes".
func listProcs(proc string) []string {
	if _, err := os.Lstat(proc + "/self"); err != nil {
		return nil
	}
	entries, err := os.ReadDir(proc)
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			pids = append(pids, n)
		}
	}
	sort.Ints(pids)
	out := []string{}
	for _, p := range pids {
		out = append(out, strconv.Itoa(p))
	}
	return out
}

// listDir returns the names in dir, sorted (os.ReadDir sorts).
func listDir(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// readMountPoints returns the mount points of a mountinfo file in its order
// (proc_pid_mountinfo(5): the fifth field). Special characters stay
// octal-escaped as the kernel writes them (a space is \040).
func readMountPoints(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return parseMountPoints(string(data))
}

func parseMountPoints(mountinfo string) []string {
	points := []string{}
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 5 {
			points = append(points, fields[4])
		}
	}
	return points
}

// readStatus returns the "Name:\tvalue" fields of /proc/self/status
// (proc_pid_status(5)), or nil when it cannot be read.
func readStatus(path string) map[string]string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return parseStatus(string(data))
}

func parseStatus(status string) map[string]string {
	fields := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok {
			fields[name] = strings.TrimSpace(value)
		}
	}
	return fields
}

// netLinks lists the network interfaces of this process's network
// namespace, sorted. /proc/net/dev is read first because it always shows
// the reader's namespace; /sys/class/net shows the namespace of whoever
// mounted sysfs, so it is only the fallback.
func netLinks() []string {
	if data, err := os.ReadFile("/proc/net/dev"); err == nil {
		return parseNetDev(string(data))
	}
	return listDir("/sys/class/net")
}

// parseNetDev reads interface names from /proc/net/dev: two header lines,
// then "  name: counters..." per interface.
func parseNetDev(data string) []string {
	names := []string{}
	for _, line := range strings.Split(data, "\n") {
		name, _, ok := strings.Cut(line, ":")
		if !ok || strings.Contains(name, "|") {
			continue
		}
		names = append(names, strings.TrimSpace(name))
	}
	sort.Strings(names)
	return names
}

// readTrimmed returns a file's content without the trailing newline, or ""
// when it cannot be read.
func readTrimmed(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(data), "\n")
}
