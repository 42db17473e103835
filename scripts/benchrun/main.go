// Command benchrun runs commands many times and prints the medians of their
// wall time, CPU time and peak memory, for scripts/bench.
//
//	benchrun [-runs N] [-warmup N] CMD [ARG...] [-- CMD [ARG...]]...
//
// The commands take turns (one run of each, then the next round), so that
// a change in the machine's load over time affects them alike. For each
// command, in order, it prints one line "wall_us=W cpu_us=C maxrss_kb=R
// runs=N", each value the median over the runs. CPU and memory come from the rusage that
// wait4(2) returns for the child: user plus system time of the child and
// of every descendant it waited for (a runtime waits for its container's
// process), and the largest resident set among them (getrusage(2),
// ru_maxrss). A run that exits non-zero stops it with its stderr.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 50, "measured runs of each command")
	warmup := flag.Int("warmup", 2, "runs of each before measuring, not counted (page cache, first cgroup)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: benchrun [-runs N] [-warmup N] CMD [ARG...] [-- CMD [ARG...]]...")
		flag.PrintDefaults()
	}
	flag.Parse()
	cmds := split(flag.Args())
	if len(cmds) == 0 || *runs < 1 || *warmup < 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := bench(cmds, *runs, *warmup); err != nil {
		fmt.Fprintf(os.Stderr, "benchrun: %v\n", err)
		os.Exit(1)
	}
}

// split cuts args into commands at each "--".
func split(args []string) [][]string {
	var cmds [][]string
	for len(args) > 0 {
		i := slices.Index(args, "--")
		if i < 0 {
			i = len(args)
		}
		if i > 0 {
			cmds = append(cmds, args[:i])
		}
		args = args[min(i+1, len(args)):]
	}
	return cmds
}

// sample is one run's cost.
type sample struct {
	wall, cpu time.Duration
	maxrss    int64 // KiB
}

func bench(cmds [][]string, runs, warmup int) error {
	wall := make([][]int64, len(cmds))
	cpu := make([][]int64, len(cmds))
	rss := make([][]int64, len(cmds))
	for i := 0; i < warmup+runs; i++ {
		for c, argv := range cmds {
			s, err := once(argv)
			if err != nil {
				return fmt.Errorf("run %d of %q: %w", i+1, argv, err)
			}
			if i < warmup {
				continue
			}
			wall[c] = append(wall[c], s.wall.Microseconds())
			cpu[c] = append(cpu[c], s.cpu.Microseconds())
			rss[c] = append(rss[c], s.maxrss)
		}
	}
	for c := range cmds {
		fmt.Printf("wall_us=%d cpu_us=%d maxrss_kb=%d runs=%d\n", median(wall[c]), median(cpu[c]), median(rss[c]), runs)
	}
	return nil
}

// once runs argv with no input and no output (stderr is kept for errors)
// and measures it.
func once(argv []string) (sample, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
		return sample{}, fmt.Errorf("%v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	} else if err != nil {
		return sample{}, err
	}
	// wait4(2)'s rusage of the child includes its waited-for descendants.
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, errors.New("no rusage from wait4")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{wall: wall, cpu: cpu, maxrss: ru.Maxrss}, nil
}

func median(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
