package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// logger writes runc-style log lines to --log: with --log-format json one
// object per line, {"level":"error","msg":"...","time":"..."}, which is what
// conmon and containerd's shim parse to show a runtime's error; with text,
// logfmt-like lines. Without --log nothing is logged (stderr still gets
// errors from Main).
type logger struct {
	w     io.Writer
	json  bool
	debug bool
	now   func() time.Time
}

func (l *logger) Errorf(format string, args ...any) { l.log("error", format, args...) }
func (l *logger) Warnf(format string, args ...any)  { l.log("warning", format, args...) }
func (l *logger) Debugf(format string, args ...any) {
	if l.debug {
		l.log("debug", format, args...)
	}
}

func (l *logger) log(level, format string, args ...any) {
	if l == nil || l.w == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	ts := l.now().UTC().Format(time.RFC3339Nano)
	if l.json {
		line, err := json.Marshal(struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Time  string `json:"time"`
		}{level, msg, ts})
		if err != nil {
			return
		}
		fmt.Fprintf(l.w, "%s\n", line)
		return
	}
	fmt.Fprintf(l.w, "time=%s level=%s msg=%s\n", strconv.Quote(ts), level, strconv.Quote(msg))
}

// openLog opens --log for appending: clients give one file per container and
// read it after each call.
func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--log %s: %w", path, err)
	}
	return f, nil
}
