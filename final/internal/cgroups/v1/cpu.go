package v1

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cpu sets the CFS bandwidth (quota µs per period µs: at most quota/period
// CPUs of time) and the relative weight, cpu.shares.
func cpu(r *specs.LinuxResources) ([]Value, error) {
	c := r.CPU
	if c == nil {
		return nil, nil
	}
	var v []Value
	// The period goes first: a quota is checked against the current period.
	if c.Period != nil && *c.Period != 0 {
		v = append(v, Value{"cpu", "cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10)})
	}
	if c.Quota != nil && *c.Quota != 0 {
		v = append(v, Value{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(*c.Quota, 10)})
	}
	if c.Shares != nil && *c.Shares != 0 {
		v = append(v, Value{"cpu", "cpu.shares", strconv.FormatUint(*c.Shares, 10)})
	}
	return v, nil
}
