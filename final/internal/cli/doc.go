// Package cli is minibox's command line: one file per verb, the global flags
// in root.go.
//
// Two front ends share one path from config to process (package container):
// `minibox run [FLAGS] CMD` (run.go) is docker-like and builds a config from
// flags; the OCI verbs (create, start, state, kill, delete, exec, ps, list,
// pause, resume, spec, features, and `run --bundle`) take runc's command line,
// so podman (through conmon) and containerd (through its runc shim) can use
// minibox as their runtime. Those clients call minibox once per step of the
// lifecycle, so every verb loads the container's state from --root, acts,
// and exits; nothing stays running but the container itself.
//
// Errors print one line, `minibox: <what>`, on stderr, and also go to --log
// (as JSON lines with --log-format json, which conmon and the shim read
// back); the exit code is 125 for minibox's own failures.
package cli
