// Command benchrun runs a command many times and prints the medians of its
// wall time, its CPU time and its peak memory, for scripts/bench.
//
//	benchrun [-runs N] [-warmup N] CMD [ARG...]
//
// It prints one line, "wall_us=W cpu_us=C maxrss_kb=R runs=N", each value
// the median over the runs. CPU and memory come from the rusage that
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
	runs := flag.Int("runs", 50, "measured runs")
	warmup := flag.Int("warmup", 2, "runs before measuring, not counted (page cache, first cgroup)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: benchrun [-runs N] [-warmup N] CMD [ARG...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 || *runs < 1 || *warmup < 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := bench(flag.Args(), *runs, *warmup); err != nil {
		fmt.Fprintf(os.Stderr, "benchrun: %v\n", err)
		os.Exit(1)
	}
}

// sample is one run's cost.
type sample struct {
	wall, cpu time.Duration
	maxrss    int64 // KiB
}

func bench(argv []string, runs, warmup int) error {
	var wall, cpu, rss []int64
	for i := 0; i < warmup+runs; i++ {
		s, err := once(argv)
		if err != nil {
			return fmt.Errorf("run %d of %q: %w", i+1, argv, err)
		}
		if i < warmup {
			continue
		}
		wall = append(wall, s.wall.Microseconds())
		cpu = append(cpu, s.cpu.Microseconds())
		rss = append(rss, s.maxrss)
	}
	fmt.Printf("wall_us=%d cpu_us=%d maxrss_kb=%d runs=%d\n", median(wall), median(cpu), median(rss), runs)
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
