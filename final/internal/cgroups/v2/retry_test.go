package v2

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// TestRetryEAGAIN: BPF_PROG_LOAD is tried again after EAGAIN, and only
// after EAGAIN, at most the given number of times.
func TestRetryEAGAIN(t *testing.T) {
	for _, tc := range []struct {
		name      string
		results   []error // what each call returns; nil is success (fd 7)
		wantCalls int
		wantFd    uintptr
		wantErr   error
	}{
		{"first try", []error{nil}, 1, 7, nil},
		{"EAGAIN twice", []error{unix.EAGAIN, unix.EAGAIN, nil}, 3, 7, nil},
		{"other error at once", []error{unix.EINVAL, nil}, 1, 0, unix.EINVAL},
		{"EAGAIN then other error", []error{unix.EAGAIN, unix.EPERM, nil}, 2, 0, unix.EPERM},
		{"EAGAIN every time", []error{unix.EAGAIN, unix.EAGAIN, unix.EAGAIN, unix.EAGAIN, unix.EAGAIN, nil}, 5, 0, unix.EAGAIN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			fd, err := retryEAGAIN(loadAttempts, func() (uintptr, error) {
				err := tc.results[calls]
				calls++
				if err != nil {
					return 0, err
				}
				return 7, nil
			})
			assert.Equal(t, calls, tc.wantCalls)
			assert.Equal(t, fd, tc.wantFd)
			if tc.wantErr == nil {
				assert.NilError(t, err)
			} else {
				assert.Assert(t, errors.Is(err, tc.wantErr), "got %v, want %v", err, tc.wantErr)
			}
		})
	}
}
