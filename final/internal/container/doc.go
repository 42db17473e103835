// Package container is the lifecycle both front ends share: `minibox
// run` and the OCI verbs go through Create → Start → (Wait) → Delete.
//
// Create starts the container's init (package initproc) in its new
// namespaces and cgroup, sends it the config, and returns once init has
// set everything up and is blocked opening the exec fifo — the OCI
// "created" state. Start opens the other end of the fifo, which lets init
// execve(2) the user's program ("running"). Wait is for the process that
// created the container and stayed its parent (`minibox run`). Delete
// kills what is left and removes the cgroup, the writable layer and the
// state directory.
//
// State lives in ROOT/ID/state.json (written atomically: temp file +
// rename(2)), so every minibox command sees the same container. A
// recorded PID whose process is gone, or whose start time differs (the
// PID was reused), reads as stopped. Containers that `run` created are
// removed by whichever minibox notices their owner died (SIGKILL of
// minibox): Create sweeps them first.
//
// API for the OCI front end (helper E extends this package):
//
//	c, err := container.Create(container.Options{Root, ID, Bundle, Spec, Stdio..., ConsoleSocket})
//	err = c.Start()              // from the same or another process (Load first)
//	code, err := c.Wait()        // only in the creating process
//	c, err := container.Load(root, id); c.Status(); c.Signal(sig); c.Delete(force)
//	list, err := container.List(root)
//
// Man pages: [fifo(7)], [rename(2)], [pidfd_open(2)], [proc(5)] (stat's starttime).
//
// [fifo(7)]: https://man7.org/linux/man-pages/man7/fifo.7.html
// [rename(2)]: https://man7.org/linux/man-pages/man2/rename.2.html
// [pidfd_open(2)]: https://man7.org/linux/man-pages/man2/pidfd_open.2.html
// [proc(5)]: https://man7.org/linux/man-pages/man5/proc.5.html
package container
