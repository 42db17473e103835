package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minibox.dev/final/internal/rootfs"
)

// DefaultRoot is where state lives unless --root says otherwise.
const DefaultRoot = "/run/minibox"

// State is what state.json holds: the OCI state plus what minibox needs
// to find and clean up the container from another process.
type State struct {
	specs.State
	Created       time.Time       `json:"created"`
	InitStartTime uint64          `json:"initStartTime,omitempty"` // /proc/PID/stat field 22
	Owner         int             `json:"owner,omitempty"`         // the minibox process that created it
	OwnerStart    uint64          `json:"ownerStartTime,omitempty"`
	AutoRemove    bool            `json:"autoRemove,omitempty"` // removed once owner and init are gone
	CgroupPath    string          `json:"cgroupPath"`
	Rootfs        string          `json:"rootfs"`
	Overlay       *rootfs.Overlay `json:"overlay,omitempty"`
	Spec          *specs.Spec     `json:"spec"`
}

// creatingState is the first state.json of a container, written before
// anything else is made. It has State's field names but not the spec: a
// small type, quick to encode (see Create).
type creatingState struct {
	Version    string          `json:"ociVersion"`
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Bundle     string          `json:"bundle"`
	Created    time.Time       `json:"created"`
	Owner      int             `json:"owner,omitempty"`
	OwnerStart uint64          `json:"ownerStartTime,omitempty"`
	AutoRemove bool            `json:"autoRemove,omitempty"`
	CgroupPath string          `json:"cgroupPath"`
	Rootfs     string          `json:"rootfs"`
	Overlay    *rootfs.Overlay `json:"overlay,omitempty"`
}

func (c *Container) saveCreating() error {
	return c.write(&creatingState{
		Version: c.Version, ID: c.ID, Status: string(specs.StateCreating), Bundle: c.Bundle,
		Created: c.Created, Owner: c.Owner, OwnerStart: c.OwnerStart, AutoRemove: c.AutoRemove,
		CgroupPath: c.CgroupPath, Rootfs: c.Rootfs, Overlay: c.Overlay,
	})
}

// ValidID reports whether id can name a container (and a directory):
// 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'.
// (A loop, not a regexp: compiling `{0,127}` at every start of minibox
// and of each container's init cost half a millisecond.)
func ValidID(id string) error {
	ok := len(id) > 0 && len(id) <= 128 && id[0] != '.' && id[0] != '-'
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
	}
	if !ok {
		return fmt.Errorf("container id %q: use letters, digits, '_', '.', '-' (not first), at most 128", id)
	}
	return nil
}

func stateDir(root, id string) string { return filepath.Join(root, id) }

// save writes state.json atomically: a reader sees the old or the new
// file, never half of one (rename(2) replaces in one step).
func (c *Container) save() error { return c.write(&c.State) }

func (c *Container) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, ".state.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "state.json")); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// ErrNotExist is returned by Load for an unknown container.
var ErrNotExist = errors.New("container does not exist")

// Load reads container id's state from root.
func Load(root, id string) (*Container, error) {
	if err := ValidID(id); err != nil {
		return nil, err
	}
	dir := stateDir(root, id)
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("container %s: %w", id, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	c := &Container{dir: dir, root: root}
	if err := json.Unmarshal(b, &c.State); err != nil {
		return nil, fmt.Errorf("parse state of %s: %w", id, err)
	}
	return c, nil
}

// List loads every container in root, sorted by ID. Entries that cannot
// be read (being created, half removed) are skipped.
func List(root string) ([]*Container, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Container
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if c, err := Load(root, e.Name()); err == nil {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// startTime reads field 22 of /proc/PID/stat (the start time in clock
// ticks since boot): a PID and its start time name one process for ever.
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces: skip past its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// alive reports whether pid is still the process that started at start.
// A zombie counts as gone.
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := startTime(pid)
	if err != nil || st != start {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// Status is the container's OCI status now: its recorded process is
// checked, and "created" means init still waits on the exec fifo.
func (c *Container) Status() specs.ContainerState {
	if c.Pid == 0 {
		if alive(c.Owner, c.OwnerStart) {
			return specs.StateCreating
		}
		return specs.StateStopped
	}
	if !alive(c.Pid, c.InitStartTime) {
		return specs.StateStopped
	}
	if _, err := os.Stat(filepath.Join(c.dir, "exec.fifo")); err == nil {
		return specs.StateCreated
	}
	return specs.StateRunning
}

// OCIState returns the spec's state with the current status.
func (c *Container) OCIState() specs.State {
	s := c.State.State
	s.Status = c.Status()
	if s.Status == specs.StateStopped {
		s.Pid = 0
	}
	return s
}

// Dir is the container's state directory.
func (c *Container) Dir() string { return c.dir }

// sweep removes containers that `run` created whose minibox is gone
// (it was SIGKILLed): their process, cgroup, writable layer and state.
// Their init gets SIGKILL from the kernel when minibox dies, but may
// still be exiting when we look: Delete(force) kills it (again) and waits
// for it to go. Containers of `create` (not auto-remove) are never
// touched: they outlive the minibox that made them until `delete`.
func sweep(root string) {
	list, _ := List(root)
	for _, c := range list {
		if c.AutoRemove && !alive(c.Owner, c.OwnerStart) {
			c.Delete(true)
		}
	}
}

func pidfdOpen(pid int) (int, error) {
	// pidfd_open(2): a descriptor that becomes readable when pid exits.
	return unix.PidfdOpen(pid, 0)
}
