// Package spec builds and loads the container configuration: the OCI
// runtime-spec's own Go types (specs.Spec), never a hand-written copy.
//
// Default returns a spec like `runc spec` writes; FromRun turns the
// docker-like flags of `minibox run` into a spec on top of it, so `minibox
// run` and the OCI verbs share one code path from config to process. Load
// reads a bundle's config.json; Validate (validate.go) rejects what the
// runtime does not support, naming the field.
//
// See the runtime specification: https://github.com/opencontainers/runtime-spec/blob/main/config.md
package spec
