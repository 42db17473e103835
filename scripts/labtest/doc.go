// Package labtest tests scripts/lab, the classroom labs: for every lab N
// (2..5), a freshly started lab (step N-1's main.go under step N's tests)
// must fail exactly the checks that scripts/lab-hints.tsv lists as step N's
// new layer and pass the others (the table has no third kind: no check of
// an earlier step may be blocked by the new layer), and the same lab
// with step N's own main.go copied in must pass every check. It also
// checks `scripts/lab reset` and `scripts/lab solution`.
//
// The package has no code of its own: scripts/lab is a bash script, run
// here as a learner or an instructor runs it.
package labtest
