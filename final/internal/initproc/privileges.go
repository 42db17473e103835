package initproc

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minibox.dev/final/internal/security"
)

// applyPrivileges gives the calling thread the process's final privileges:
// bounding set, user and groups, capability sets, no_new_privs, seccomp.
// It runs just before execve(2), on the thread that will call it, in the
// container's process and in every exec'd one.
//
// The order matters:
//   - the bounding set needs CAP_SETPCAP and setuid(2) needs CAP_SETUID,
//     so both come before capset(2) drops them;
//   - seccomp(2) needs either no_new_privs or CAP_SYS_ADMIN. With
//     process.noNewPrivileges the filter comes last, so it never sees
//     minibox's own syscalls. Without it (podman and docker leave it
//     unset) the filter must be loaded first, while we still hold
//     CAP_SYS_ADMIN; the syscalls after it (capset, setuid, prctl) are
//     ones every container profile allows. runc orders it the same way.
func applyPrivileges(p *specs.Process, sc *specs.LinuxSeccomp) error {
	caps, err := security.CapsFromSpec(p.Capabilities)
	if err != nil {
		return err
	}
	if !p.NoNewPrivileges {
		if err := security.LoadSeccomp(sc); err != nil {
			return err
		}
	}
	if p.Capabilities != nil {
		if err := security.DropBounding(caps.Bounding); err != nil {
			return err
		}
	}
	if err := switchUser(p.User); err != nil {
		return err
	}
	if p.Capabilities != nil {
		if err := security.Apply(caps); err != nil {
			return err
		}
	}
	if p.NoNewPrivileges {
		if err := security.NoNewPrivs(); err != nil {
			return err
		}
		if err := security.LoadSeccomp(sc); err != nil {
			return err
		}
	}
	return nil
}
