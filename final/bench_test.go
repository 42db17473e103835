package main

import (
	"os"
	"os/exec"
	"sort"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRunTrue measures `minibox run /bin/true` in a fully isolated
// container (every namespace, overlay, cgroup with limits, seccomp):
// from the command's start to its exit. Besides ns/op it reports the
// median wall time, the CPU time minibox and the container used per run
// (user+sys, from wait4's rusage), and minibox's peak RSS.
//
//	sudo go test -run '^$' -bench RunTrue -benchtime 200x .
//
// A benchmark, never a timed test: the numbers depend on the machine.
// scripts/bench compares them with runc and crun on the same rootfs.
func BenchmarkRunTrue(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: sudo go test -bench RunTrue")
	}
	rootfs := os.Getenv("MINIBOX_ROOTFS")
	if rootfs == "" {
		rootfs = "../rootfs"
	}
	root := b.TempDir()
	var walls []time.Duration
	var cpu time.Duration
	var maxRSS int64
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin, "--root", root, "run", "--rootfs", rootfs,
			"-m", "64m", "--pids-limit", "64", "--cpus", "1", "/bin/true")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		walls = append(walls, time.Since(start))
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		maxRSS = max(maxRSS, ru.Maxrss)
	}
	b.StopTimer()
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	n := len(walls)
	b.ReportMetric(float64(walls[n/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "ms-cpu/op")
	b.ReportMetric(float64(maxRSS)/1024, "MiB-peak-rss")
}
