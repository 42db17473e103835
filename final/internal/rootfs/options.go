package rootfs

import "sort"

// MountOptions lists the mount options ParseOptions turns into mount(2)
// flags or propagation, sorted (`minibox features` reports them). Other
// options go to the filesystem as data.
func MountOptions() []string {
	var out []string
	for o := range mountFlags {
		out = append(out, o)
	}
	for o := range propagationFlags {
		out = append(out, o)
	}
	sort.Strings(out)
	return out
}
