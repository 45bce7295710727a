// Package reload makes `systemctl reload edge-sensord` wait for the reload
// and report its outcome. SIGHUP alone is asynchronous: with ExecReload=kill
// systemd marks the reload done when kill returns, while the daemon is still
// re-reading its files, and a rejected file fails nothing. (Type=notify-reload
// solves this from systemd 253 on; Debian 12 ships 252.)
//
// The daemon records the outcome of every reload in a small file of its
// runtime directory; the ExecReload helper sends SIGHUP and waits until the
// record's sequence number moves on.
package reload

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FileName is the record's name inside the runtime directory.
const FileName = "reload-status"

// Result is the outcome of the daemon's latest reload.
type Result struct {
	Seq uint64 // reloads since the daemon started; 0 before the first
	Err string // why the reload was refused; empty when it succeeded
}

// RuntimeDir returns the first directory of systemd's $RUNTIME_DIRECTORY
// (colon-separated when the unit names several), or "" outside such a unit.
func RuntimeDir() string {
	d, _, _ := strings.Cut(os.Getenv("RUNTIME_DIRECTORY"), ":")
	return d
}

// Record writes r atomically (a reader never sees half a record).
func Record(dir string, r Result) error {
	line := strconv.FormatUint(r.Seq, 10) + " ok\n"
	if r.Err != "" {
		line = strconv.FormatUint(r.Seq, 10) + " failed: " + strings.ReplaceAll(r.Err, "\n", " ") + "\n"
	}
	tmp, err := os.CreateTemp(dir, FileName+".*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(line)
	if err == nil {
		// Readable by anyone, as the status line that says the same: edgectl
		// status run by any user warns of a refused reload from it.
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, FileName))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Read returns the latest record; the error wraps fs.ErrNotExist when the
// daemon has written none.
func Read(dir string) (Result, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		return Result{}, err
	}
	line := strings.TrimSuffix(string(b), "\n")
	seq, rest, _ := strings.Cut(line, " ")
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return Result{}, fmt.Errorf("%s: bad sequence number %q", path, seq)
	}
	switch {
	case rest == "ok":
		return Result{Seq: n}, nil
	case strings.HasPrefix(rest, "failed: "):
		return Result{Seq: n, Err: strings.TrimPrefix(rest, "failed: ")}, nil
	}
	return Result{}, fmt.Errorf("%s: bad record %q", path, line)
}

// ErrNotReported means the daemon keeps no record (an older edge-sensord, or
// one without a runtime directory): the signal was sent, the outcome is unknown.
var ErrNotReported = errors.New("signal sent; the daemon does not report its reloads")

// Trigger calls signal (which sends SIGHUP) and waits until the daemon records
// a newer reload, polling every interval. It returns that reload's result, or
// an error when the record is unreadable or ctx ends first.
func Trigger(ctx context.Context, dir string, interval time.Duration, signal func() error) (Result, error) {
	before, err := Read(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := signal(); err != nil {
			return Result{}, err
		}
		return Result{}, ErrNotReported
	}
	if err != nil {
		return Result{}, err
	}
	if err := signal(); err != nil {
		return Result{}, err
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("no reload recorded after reload %d: %w", before.Seq, ctx.Err())
		case <-t.C:
		}
		r, err := Read(dir)
		if err != nil {
			return Result{}, err
		}
		if r.Seq > before.Seq {
			return r, nil
		}
	}
}
