// The constructor described in doc.go. It runs before the Go runtime starts,
// while the process has exactly one thread, which is what setns(2) needs for
// mount and user namespaces.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Must match EnvPaths, EnvSync and maxNamespaces in nsenter.go.
#define ENV_PATHS "_MINIBOX_NSENTER_PATHS"
#define ENV_SYNC "_MINIBOX_NSENTER_SYNC"
#define MAX_NS 16

// fail reports an error line to the parent and exits. The parent turns the
// line into the error that `minibox exec` prints.
static void fail(int sync, const char *what, const char *obj) {
	dprintf(sync, "error %s %s: %s\n", what, obj, strerror(errno));
	_exit(1);
}

__attribute__((constructor)) static void minibox_nsenter(void) {
	const char *env = getenv(ENV_PATHS);
	if (env == NULL)
		return;

	const char *syncenv = getenv(ENV_SYNC);
	if (syncenv == NULL) {
		fprintf(stderr, "minibox: nsenter: %s is set but %s is not\n", ENV_PATHS, ENV_SYNC);
		_exit(1);
	}
	int sync = atoi(syncenv);

	// Step 1: wait until the parent has placed this process in the
	// container's cgroups. A short read means the parent gave up.
	char go = 0;
	if (read(sync, &go, 1) != 1 || go != 'g')
		_exit(1);

	// Step 2: open every namespace file first. Joining the mount namespace
	// changes what /proc means, so later opens would fail or find the wrong
	// process.
	char *paths = strdup(env);
	if (paths == NULL)
		fail(sync, "strdup", ENV_PATHS);
	int fds[MAX_NS];
	char *names[MAX_NS];
	int n = 0;
	for (char *save = NULL, *p = strtok_r(paths, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save)) {
		if (n == MAX_NS) {
			errno = E2BIG;
			fail(sync, "too many namespaces in", ENV_PATHS);
		}
		// open(2) with O_CLOEXEC: the descriptor is only needed for setns.
		fds[n] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[n] < 0)
			fail(sync, "open", p);
		names[n] = p;
		n++;
	}

	// Step 3: join them in the order the Go side chose. setns(2) with
	// nstype 0 lets the kernel take the type from the file itself. The user
	// namespace comes first so the later joins are checked against the
	// capabilities we gain in it; the mount namespace comes last and also
	// moves our root and working directory to the container's root.
	for (int i = 0; i < n; i++) {
		if (setns(fds[i], 0) < 0)
			fail(sync, "setns", names[i]);
		close(fds[i]);
	}

	// Step 4: fork(2). After setns(2) into a PID namespace only new children
	// are created inside it (pid_namespaces(7)), so the child is the process
	// that will become the user's command.
	pid_t child = fork();
	if (child < 0)
		fail(sync, "fork", "into the container's namespaces");
	if (child == 0) {
		// The child goes on into the Go runtime. The variables must not
		// reach the user's command or a nested minibox.
		unsetenv(ENV_PATHS);
		unsetenv(ENV_SYNC);
		free(paths);
		return;
	}
	// The parent's only job left is to tell `minibox exec` the child's pid
	// (as seen from the host) and to exit, so the child is re-parented to
	// the nearest subreaper: `minibox exec` itself, conmon or the
	// containerd shim.
	dprintf(sync, "pid %d\n", (int)child);
	_exit(0);
}
