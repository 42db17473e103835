package v1

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// devices writes the device rules in order: "a" to devices.deny first
// empties the allow list, then each rule adds or removes entries such as
// "c 1:3 rwm" (type major:minor access; * is any).
func devices(r *specs.LinuxResources) ([]Value, error) {
	var v []Value
	for _, d := range r.Devices {
		line, err := Rule(d)
		if err != nil {
			return nil, err
		}
		file := "devices.deny"
		if d.Allow {
			file = "devices.allow"
		}
		v = append(v, Value{"devices", file, line})
	}
	return v, nil
}

// Rule formats one device cgroup rule the way devices.allow reads it.
func Rule(d specs.LinuxDeviceCgroup) (string, error) {
	typ := d.Type
	if typ == "" {
		typ = "a"
	}
	if typ != "a" && typ != "c" && typ != "b" {
		return "", fmt.Errorf("linux.resources.devices: type %q: want a, b or c", d.Type)
	}
	access := d.Access
	if access == "" {
		access = "rwm"
	}
	for _, c := range access {
		if c != 'r' && c != 'w' && c != 'm' {
			return "", fmt.Errorf("linux.resources.devices: access %q: want letters of rwm", d.Access)
		}
	}
	if typ == "a" {
		return "a", nil
	}
	num := func(p *int64) string {
		if p == nil || *p < 0 {
			return "*"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("%s %s:%s %s", typ, num(d.Major), num(d.Minor), access), nil
}
