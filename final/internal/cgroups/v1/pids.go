package v1

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// pids caps the number of tasks (processes and threads): fork(2) and
// clone(2) fail with EAGAIN at pids.max.
func pids(r *specs.LinuxResources) ([]Value, error) {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil, nil
	}
	limit := "max"
	if *r.Pids.Limit > 0 {
		limit = strconv.FormatInt(*r.Pids.Limit, 10)
	}
	return []Value{{"pids", "pids.max", limit}}, nil
}
