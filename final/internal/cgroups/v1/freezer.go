package v1

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"minibox.dev/final/internal/cgroups/cgroupfs"
)

// Freeze writes FROZEN to freezer.state and waits until the kernel reports
// it: freezing is asynchronous and passes through FREEZING.
func (m *Manager) Freeze() error { return m.freeze("FROZEN") }

// Thaw resumes the cgroup's tasks.
func (m *Manager) Thaw() error { return m.freeze("THAWED") }

func (m *Manager) freeze(state string) error {
	dir, ok := m.dirs["freezer"]
	if !ok {
		return fmt.Errorf("cgroup v1 freezer is not mounted")
	}
	for i := 0; i < 1000; i++ {
		if err := cgroupfs.Write(dir, "freezer.state", state); err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, "freezer.state"))
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(b)) == state {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("freezer %s: did not reach %s", dir, state)
}
