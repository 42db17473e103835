package security

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var rlimitTypes = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC,
	"RLIMIT_RSS": unix.RLIMIT_RSS, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

const capSysResource = 24

// SetRlimits applies the spec's limits with setrlimit(2). Raising a hard
// limit above the current one needs CAP_SYS_RESOURCE; without it minibox
// does not try, and names the limit instead.
func SetRlimits(limits []specs.POSIXRlimit) error {
	for _, l := range limits {
		res, ok := rlimitTypes[l.Type]
		if !ok {
			return fmt.Errorf("process.rlimits: unknown type %q", l.Type)
		}
		if l.Soft > l.Hard {
			return fmt.Errorf("process.rlimits: %s soft limit %d exceeds hard limit %d", l.Type, l.Soft, l.Hard)
		}
		var cur unix.Rlimit
		if err := unix.Getrlimit(res, &cur); err != nil {
			return fmt.Errorf("getrlimit %s: %w", l.Type, err)
		}
		if l.Hard > cur.Max && !HasEffective(capSysResource) {
			return fmt.Errorf("rlimit %s: hard limit %d is above the current %d, and raising it needs CAP_SYS_RESOURCE, which this process lacks", l.Type, l.Hard, cur.Max)
		}
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: l.Soft, Max: l.Hard}); err != nil {
			return fmt.Errorf("setrlimit %s %d:%d: %w", l.Type, l.Soft, l.Hard, err)
		}
	}
	return nil
}
