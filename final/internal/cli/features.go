package cli

import (
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"minibox.dev/final/internal/rootfs"
	"minibox.dev/final/internal/security"
	"minibox.dev/final/internal/spec"
)

func featuresCommand() *Command {
	c := &Command{Name: "features", Args: "",
		Summary: "print what this runtime supports, as runtime-spec's features JSON"}
	c.Run = func(g *Global, args []string) error {
		if _, err := newFlags(c).parse(g, args, 0, 0); err != nil {
			return err
		}
		out, err := json.MarshalIndent(Features(), "", "    ")
		if err != nil {
			return err
		}
		_, err = g.stdout.Write(append(out, '\n'))
		return err
	}
	return c
}

// Features describes minibox in the runtime-spec's features.json format
// (features.md), so a client can ask before it sends a config. Whatever is
// false here, spec.Validate rejects by name.
func Features() *features.Features {
	yes, no := true, false
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  rootfs.MountOptions(),
		Linux: &features.Linux{
			Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
			Capabilities: security.CapNames(),
			Cgroup: &features.Cgroup{
				V1: &yes, V2: &yes, Systemd: &no, SystemdUser: &no, Rdma: &no,
			},
			Seccomp: &features.Seccomp{
				Enabled: &yes,
				Actions: []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
					"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
					"SCMP_ACT_TRACE", "SCMP_ACT_TRAP"},
				Operators: []string{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
					"SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"},
				Archs: []string{nativeSeccompArch},
			},
			Apparmor:        &features.Apparmor{Enabled: &no},
			Selinux:         &features.Selinux{Enabled: &no},
			IntelRdt:        &features.IntelRdt{Enabled: &no},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &no}},
		},
		Annotations: map[string]string{
			spec.AnnotationOverlay: "true: a copy-on-write overlay over root.path, removed with the container",
			spec.AnnotationInit:    "true: minibox's init stays PID 1, forwards signals and reaps orphans",
		},
	}
}
