package v1

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// memory limits RAM (memory.limit_in_bytes) and RAM+swap
// (memory.memsw.limit_in_bytes, present when the kernel accounts swap).
// The memory limit goes first: memsw may never be below it.
func memory(r *specs.LinuxResources) ([]Value, error) {
	m := r.Memory
	if m == nil {
		return nil, nil
	}
	var v []Value
	if m.Limit != nil {
		v = append(v, Value{"memory", "memory.limit_in_bytes", strconv.FormatInt(*m.Limit, 10)})
	}
	if m.Swap != nil {
		v = append(v, Value{"memory", "memory.memsw.limit_in_bytes", strconv.FormatInt(*m.Swap, 10)})
	}
	return v, nil
}
