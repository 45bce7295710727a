package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// ready starts BINARY ARGS... -runs times and measures, from just before
// fork/exec, the arrival of READY=1 on a NOTIFY_SOCKET (-notify) and the
// first 200 on -url. The process is stopped with SIGTERM after each run.
func ready(args []string) error {
	fs := flag.NewFlagSet("ready", flag.ExitOnError)
	notify := fs.Bool("notify", false, "give the process a NOTIFY_SOCKET and time READY=1")
	url := fs.String("url", "", "time the first 200 on this URL")
	runs := fs.Int("runs", 5, "repetitions")
	prefix := fs.String("prefix", "", "key prefix")
	logPath := fs.String("log", os.DevNull, "the process's stdout and stderr")
	timeout := fs.Duration("timeout", 10*time.Second, "give up on a run after this")
	afterKill := fs.Bool("after-sigkill", false, "before each run, start the binary, wait for a 200 on -url and SIGKILL it; the run then times the restart")
	fs.Parse(args)
	if *afterKill && *url == "" {
		return fmt.Errorf("-after-sigkill needs -url")
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("want -- BINARY ARGS...")
	}
	var readys, firsts []time.Duration
	for i := 0; i < *runs; i++ {
		if *afterKill {
			if err := startAndKill(fs.Args(), *url, *logPath, *timeout); err != nil {
				return fmt.Errorf("run %d: %w", i+1, err)
			}
		}
		r, f, err := readyOnce(fs.Args(), *notify, *url, *logPath, *timeout)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		if *notify {
			readys = append(readys, r)
			out(fmt.Sprintf("%sready_ms_run%d", *prefix, i+1), ms(r))
		}
		if *url != "" {
			firsts = append(firsts, f)
			out(fmt.Sprintf("%sfirst200_ms_run%d", *prefix, i+1), ms(f))
		}
	}
	printStats(*prefix+"ready_ms", readys)
	printStats(*prefix+"first200_ms", firsts)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// printStats prints median, min and max of ds in milliseconds.
func printStats(key string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	out(key+"_median", ms(med))
	out(key+"_min", ms(s[0]))
	out(key+"_max", ms(s[len(s)-1]))
}

// readyOnce starts argv once and times READY=1 (notify) and the first 200
// on url (when not ""), then stops it.
func readyOnce(argv []string, notify bool, url, logPath string, timeout time.Duration) (readyAt, firstAt time.Duration, err error) {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, 0, err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = os.Environ()
	var readyCh, firstCh <-chan time.Time // nil: not timed
	if notify {
		sock, ch, closeSock, err := listenNotify()
		if err != nil {
			return 0, 0, err
		}
		defer closeSock()
		cmd.Env = append(cmd.Env, "NOTIFY_SOCKET="+sock)
		readyCh = ch
	}
	stop := make(chan struct{})
	defer close(stop)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer terminate(cmd, exited)
	if url != "" {
		firstCh = firstOK(url, stop)
	}
	return awaitReady(start, readyCh, firstCh, exited, timeout, logPath)
}

// listenNotify listens on a NOTIFY_SOCKET of its own; the channel gets the
// time READY=1 arrived.
func listenNotify() (sock string, ready <-chan time.Time, closeSock func(), err error) {
	dir, err := os.MkdirTemp("", "benchnotify")
	if err != nil {
		return "", nil, nil, err
	}
	sock = filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, nil, err
	}
	ch := make(chan time.Time, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			for _, line := range strings.Split(string(buf[:n]), "\n") {
				if line == "READY=1" {
					ch <- time.Now()
					return
				}
			}
		}
	}()
	return sock, ch, func() { conn.Close(); os.RemoveAll(dir) }, nil
}

// firstOK asks url every millisecond until stop; the channel gets the time
// of the first 200.
func firstOK(url string, stop <-chan struct{}) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for {
			select {
			case <-stop:
				return
			default:
			}
			if resp, err := c.Get(url); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ch <- time.Now()
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return ch
}

// awaitReady waits for both times that are timed (a nil channel is not),
// failing when the process exits or timeout passes first.
func awaitReady(start time.Time, readyCh, firstCh <-chan time.Time, exited chan error, timeout time.Duration, logPath string) (readyAt, firstAt time.Duration, err error) {
	deadline := time.After(timeout)
	gotReady, gotFirst := readyCh == nil, firstCh == nil
	for !gotReady || !gotFirst {
		select {
		case t := <-readyCh:
			readyAt, gotReady = t.Sub(start), true
		case t := <-firstCh:
			firstAt, gotFirst = t.Sub(start), true
		case err := <-exited:
			exited <- err // for terminate
			return 0, 0, fmt.Errorf("process exited early: %v (see %s)", err, logPath)
		case <-deadline:
			return 0, 0, fmt.Errorf("not ready after %s (ready=%v first200=%v)", timeout, gotReady, gotFirst)
		}
	}
	return readyAt, firstAt, nil
}

// terminate stops the process with SIGTERM, and SIGKILL after 15 s.
func terminate(cmd *exec.Cmd, exited chan error) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

// startAndKill starts argv, waits for a 200 on url with a scrape
// connection left open, and SIGKILLs it, leaving what a crash leaves.
func startAndKill(argv []string, url, logPath string, timeout time.Duration) error {
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			return fmt.Errorf("no 200 before the kill")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	c.CloseIdleConnections()
	return nil
}
