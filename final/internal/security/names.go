package security

import "sort"

// CapNames lists every capability name minibox knows, in number order
// (`minibox features` reports them).
func CapNames() []string {
	names := make([]string, 0, len(capNames))
	for n := range capNames {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return capNames[names[i]] < capNames[names[j]] })
	return names
}
