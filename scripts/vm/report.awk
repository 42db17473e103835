# Reads the serial log of a scripts/vmtest run (carriage returns removed) and
# prints, per package, how many tests ran, passed, were skipped and failed,
# the skipped tests with their reasons and the failed tests; then the verdict.
# Exits 0 for PASS, 1 for FAIL.
#
# Variables (awk -v):
#   packages  file with one "PKG|..." line per package that must have run
#   required  file with "PKG TEST" lines: tests that must have run and passed
#             (TEST is the full go test name, subtests included: TestX/v2)
#   timed_out 1 when the watchdog killed the VM
#
# Test results are the "--- PASS|FAIL|SKIP: NAME" lines of go test -v, for
# top-level tests and subtests alike. A skip's reason is the last line the
# test logged before it, tracked through "=== RUN|CONT|NAME" lines.

function fail(msg) {
	problems[++nproblems] = msg
}

BEGIN {
	while ((getline line < packages) > 0) {
		split(line, f, "|")
		order[++npkgs] = f[1]
	}
	while ((getline line < required) > 0) {
		if (line ~ /^[ \t]*(#|$)/)
			continue
		split(line, f, " ")
		req[++nreq] = f[1] " " f[2]
	}
}

/^##vmtest: / {
	if ($2 == "begin") {
		pkg = $3
		begun[pkg] = 1
		current = ""
	} else if ($2 == "end") {
		sub(/^exit=/, "", $4)
		exitcode[$3] = $4
		pkg = ""
	} else if ($2 == "kernel" && $3 == "oops") {
		oops = 1
	} else if ($2 == "done") {
		done = 1
	} else if ($2 == "cgroup.subtree_control") {
		$1 = $2 = ""
		sub(/^ +/, "")
		subtree = $0
	} else if ($2 == "kernel" && kernel == "") {
		kernel = $3
	}
	next
}

/Kernel panic/ {
	panic = 1
}

pkg == "" {
	next
}

# A test binary that panicked, or hit -test.timeout: go prints the tests
# that were running, one per line after "running tests:", indented by tabs.
/^panic: / && !(pkg in panicked) {
	panicked[pkg] = $0
	next
}

/^\t\tTest[^ ]* \(/ && (pkg in panicked) {
	hung[pkg] = hung[pkg] " " $1
	next
}

/^=== (RUN|CONT|NAME) / {
	current = $3
	cont = 0
	next
}

/^ +[^ ]+\.go:[0-9]+: / {
	if (current != "") {
		lastlog[pkg, current] = $0
		sub(/^ +/, "", lastlog[pkg, current])
		cont = 2
	}
	next
}

# Up to two continuation lines of a multi-line log message (gotest.tools
# puts the details of "assertion failed:" on the next lines).
cont > 0 && /^        +[^ ]/ && !/^ *--- (PASS|FAIL|SKIP): / {
	line = $0
	sub(/^ +/, "", line)
	lastlog[pkg, current] = substr(lastlog[pkg, current] " | " line, 1, 240)
	cont--
	next
}

{
	cont = 0
}

/^ *--- (PASS|FAIL|SKIP): / {
	result = $2
	sub(/:$/, "", result)
	name = $3
	run[pkg]++
	status[pkg " " name] = result
	if (result == "PASS") {
		passed[pkg]++
	} else if (result == "FAIL") {
		failed[pkg]++
		failures[pkg] = failures[pkg] "    FAIL " name ": " lastlog[pkg, name] "\n"
	} else {
		skipped[pkg]++
		reason = lastlog[pkg, name]
		skips[pkg] = skips[pkg] "    skip " name ": " reason "\n"
		# In this VM cgroup v2 is the only hierarchy: a test that
		# skips for want of it has detected the mode wrongly.
		if (reason ~ /needs cgroup v2/)
			fail(pkg " " name " skipped for want of cgroup v2 inside the v2 VM")
	}
}

END {
	printf "vmtest: kernel %s, cgroup v2 subtree_control: %s\n", kernel, subtree
	printf "%-44s %5s %5s %5s %5s %5s\n", "package", "exit", "run", "pass", "skip", "fail"
	for (i = 1; i <= npkgs; i++) {
		p = order[i]
		code = (p in exitcode) ? exitcode[p] : "-"
		printf "%-44s %5s %5d %5d %5d %5d\n", p, code, run[p], passed[p], skipped[p], failed[p]
		printf "%s%s", skips[p], failures[p]
		total_run += run[p]; total_pass += passed[p]
		total_skip += skipped[p]; total_fail += failed[p]
		if (!(p in begun))
			fail(p ": no begin marker (the VM never started it)")
		else if (!(p in exitcode))
			fail(p ": no end marker (crash, hang or lost output)")
		else if (exitcode[p] != 0)
			fail(p ": test binary exited " exitcode[p])
		if (p in panicked)
			fail(p ": " panicked[p] (p in hung ? ", running:" hung[p] : ""))
		if (p in exitcode && run[p] == 0)
			fail(p ": ran no test")
	}
	for (i = 1; i <= nreq; i++) {
		st = (req[i] in status) ? status[req[i]] : "did not run"
		if (st != "PASS")
			fail("required v2 test " req[i] ": " st)
	}
	if (npkgs == 0)
		fail("no test package was run")
	if (timed_out == 1)
		fail("the watchdog killed the VM (hang)")
	if (panic)
		fail("kernel panic")
	if (oops)
		fail("kernel oops (see the serial log)")
	if (!done)
		fail("no done marker: the VM did not finish its run")
	if (nreq > 0)
		printf "required v2 tests: %d listed, %d passed\n", nreq, nreq - count_req_failures()
	for (i = 1; i <= nproblems; i++)
		printf "vmtest: FAIL: %s\n", problems[i]
	printf "vmtest: %s (%d packages)\n", (nproblems > 0) ? "FAIL" : "PASS", npkgs
	printf "vmtest: %d passed, %d failed, %d skipped\n", total_pass, total_fail, total_skip
	exit (nproblems > 0) ? 1 : 0
}

function count_req_failures(   i, n) {
	n = 0
	for (i = 1; i <= nreq; i++)
		if (!((req[i] in status) && status[req[i]] == "PASS"))
			n++
	return n
}
