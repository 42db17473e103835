module minibox.dev/steps/05-cgroups

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	golang.org/x/sys v0.47.0
	gotest.tools/v3 v3.5.2
)
