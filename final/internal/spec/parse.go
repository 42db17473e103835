package spec

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ParseBytes reads docker's size syntax: a number with an optional unit
// b, k, m, g (powers of 1024, case-insensitive), e.g. "32m".
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult, t = 1<<10, t[:n-1]
		case 'm':
			mult, t = 1<<20, t[:n-1]
		case 'g':
			mult, t = 1<<30, t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (want e.g. 512k, 32m, 1g)", s)
	}
	return v * mult, nil
}

// rlimitNames maps docker's --ulimit names to the spec's RLIMIT_ types.
var rlimitNames = map[string]string{
	"core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU", "data": "RLIMIT_DATA",
	"fsize": "RLIMIT_FSIZE", "locks": "RLIMIT_LOCKS", "memlock": "RLIMIT_MEMLOCK",
	"msgqueue": "RLIMIT_MSGQUEUE", "nice": "RLIMIT_NICE", "nofile": "RLIMIT_NOFILE",
	"nproc": "RLIMIT_NPROC", "rss": "RLIMIT_RSS", "rtprio": "RLIMIT_RTPRIO",
	"rttime": "RLIMIT_RTTIME", "sigpending": "RLIMIT_SIGPENDING", "stack": "RLIMIT_STACK",
	"as": "RLIMIT_AS",
}

// ParseUlimit reads docker's --ulimit NAME=SOFT[:HARD] (HARD defaults to
// SOFT; -1 means unlimited).
func ParseUlimit(s string) (specs.POSIXRlimit, error) {
	name, vals, ok := strings.Cut(s, "=")
	typ, known := rlimitNames[name]
	if !ok || !known {
		return specs.POSIXRlimit{}, fmt.Errorf("ulimit %q: want NAME=SOFT[:HARD] with NAME one of nofile, nproc, core, ...", s)
	}
	softS, hardS, hasHard := strings.Cut(vals, ":")
	if !hasHard {
		hardS = softS
	}
	soft, err1 := parseLimit(softS)
	hard, err2 := parseLimit(hardS)
	if err1 != nil || err2 != nil {
		return specs.POSIXRlimit{}, fmt.Errorf("ulimit %q: limits must be numbers or -1", s)
	}
	if soft > hard {
		return specs.POSIXRlimit{}, fmt.Errorf("ulimit %q: soft limit exceeds hard limit", s)
	}
	return specs.POSIXRlimit{Type: typ, Soft: soft, Hard: hard}, nil
}

func parseLimit(s string) (uint64, error) {
	if s == "-1" || s == "unlimited" {
		return ^uint64(0), nil
	}
	return strconv.ParseUint(s, 10, 64)
}
