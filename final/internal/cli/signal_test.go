package cli

import (
	"testing"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want unix.Signal
		err  string
	}{
		{in: "9", want: unix.SIGKILL},
		{in: "15", want: unix.SIGTERM},
		{in: "KILL", want: unix.SIGKILL},
		{in: "SIGKILL", want: unix.SIGKILL},
		{in: "sigterm", want: unix.SIGTERM},
		{in: "hup", want: unix.SIGHUP},
		{in: "SIGUSR1", want: unix.SIGUSR1},
		{in: "0", err: "signal 0: out of range 1-64"},
		{in: "65", err: "signal 65: out of range 1-64"},
		{in: "-9", err: "signal -9: out of range 1-64"},
		{in: "SIGFOO", err: `unknown signal "SIGFOO" (want a number or a name such as TERM, SIGKILL)`},
		{in: "", err: `unknown signal "" (want a number or a name such as TERM, SIGKILL)`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSignal(tc.in)
			if tc.err != "" {
				assert.Error(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, got, tc.want)
		})
	}
}
