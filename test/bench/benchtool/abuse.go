package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// healthProbe requests /healthz on a fresh connection and returns the
// status (0 when the request failed) and how long it took.
func healthProbe(addr string) (int, time.Duration, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	t := time.Now()
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return 0, time.Since(t), err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(t), nil
}

// rssWatch samples a process's peak RSS from watchRSS until done.
type rssWatch struct {
	pid  int
	stop chan struct{}
	peak <-chan int64
}

// watchRSS prints pid's memory now, then samples its peak RSS until done.
func watchRSS(pid int) (rssWatch, error) {
	before, err := sampleProc(pid)
	if err != nil {
		return rssWatch{}, err
	}
	before.print("before_")
	stop := make(chan struct{})
	return rssWatch{pid, stop, peakRSS(pid, stop)}, nil
}

// done stops the sampling and prints the peak, then the memory once the
// daemon has had settle to settle.
func (w rssWatch) done(settle time.Duration) error {
	close(w.stop)
	out("peak_rss_kib", <-w.peak)
	time.Sleep(settle)
	after, err := sampleProc(w.pid)
	if err != nil {
		return err
	}
	after.print("after_")
	return nil
}

// peakRSS samples pid's RSS every 10 ms until stop is closed.
func peakRSS(pid int, stop <-chan struct{}) <-chan int64 {
	res := make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if s, err := sampleProc(pid); err == nil && s.rssKiB > peak {
				peak = s.rssKiB
			}
			select {
			case <-stop:
				res <- peak
				return
			case <-t.C:
			}
		}
	}()
	return res
}

// serverFlags adds -addr and -pid, the server under test, to fs.
func serverFlags(fs *flag.FlagSet) (addr *string, pid *int) {
	return fs.String("addr", "", "host:port"), fs.Int("pid", 0, "server process")
}

// hold opens -n connections that send nothing, keeps them while probing
// /healthz from another client, and counts how many the server has closed
// after -hold (its ReadHeaderTimeout should close idle new connections).
func hold(args []string) error {
	fs := flag.NewFlagSet("hold", flag.ExitOnError)
	addr, pid := serverFlags(fs)
	n := fs.Int("n", 1000, "connections")
	holdFor := fs.Duration("hold", 8*time.Second, "how long to hold them")
	fs.Parse(args)

	watch, err := watchRSS(*pid)
	if err != nil {
		return err
	}
	start := time.Now()
	conns := dialIdle(*addr, *n)
	out("opened", len(conns))
	out("open_ms", ms(time.Since(start)))
	closedAt := awaitServerClose(conns, start, start.Add(*holdFor))
	time.Sleep(time.Second)
	during, err := sampleProc(*pid)
	if err != nil {
		return err
	}
	during.print("during_")
	var probes []string
	for i := 0; i < 3; i++ {
		code, d, err := healthProbe(*addr)
		if err != nil {
			probes = append(probes, fmt.Sprintf("err(%v)", err))
		} else {
			probes = append(probes, fmt.Sprintf("%d/%.1fms", code, ms(d)))
		}
		time.Sleep(500 * time.Millisecond)
	}
	out("healthz_during", strings.Join(probes, ","))
	times := closedAt()
	out("closed_by_server", len(times))
	printStats("closed_after_ms", times)
	for _, c := range conns {
		c.Close()
	}
	if err := watch.done(2 * time.Second); err != nil {
		return err
	}
	code, _, err := healthProbe(*addr)
	out("healthz_after", code)
	return err
}

// dialIdle opens up to n connections to addr, stopping at the first that
// fails (which it prints).
func dialIdle(addr string, n int) []net.Conn {
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			out("dial_failed_at", i)
			out("dial_error", fmt.Sprintf("%q", err.Error()))
			break
		}
		conns = append(conns, c)
	}
	return conns
}

// awaitServerClose reads each connection until deadline; the function it
// returns waits for that and gives how long after start the server hung up
// on each it closed.
func awaitServerClose(conns []net.Conn, start, deadline time.Time) func() []time.Duration {
	closedAt := make([]time.Duration, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(deadline)
			// EOF, a reset or any answer (e.g. a 408) means the server gave up on it.
			if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
				closedAt[i] = time.Since(start)
			}
		}()
	}
	return func() []time.Duration {
		wg.Wait()
		var times []time.Duration
		for _, d := range closedAt {
			if d > 0 {
				times = append(times, d)
			}
		}
		return times
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && errors.As(err, &ne) && ne.Timeout()
}

// burst sends -n GET /metrics at once, each on its own connection, and
// counts the answers: beyond --web.max-requests in flight the server must
// answer 503 at once rather than queue.
func burst(args []string) error {
	fs := flag.NewFlagSet("burst", flag.ExitOnError)
	addr, pid := serverFlags(fs)
	n := fs.Int("n", 1000, "concurrent requests")
	path := fs.String("path", "/metrics", "path to request")
	fs.Parse(args)

	watch, err := watchRSS(*pid)
	if err != nil {
		return err
	}
	conns := make([]net.Conn, 0, *n)
	for i := 0; i < *n; i++ {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			return fmt.Errorf("dial %d: %w", i, err)
		}
		conns = append(conns, c)
	}
	start := time.Now()
	answers := requestAll(conns, *path)
	probe := probeText(*addr) // while the burst is served
	codes := answers()
	out("burst_ms", ms(time.Since(start)))
	for _, k := range slices.Sorted(maps.Keys(codes)) {
		out("status_"+k, codes[k])
	}
	out("healthz_during", probe)
	return watch.done(2 * time.Second)
}

// requestAll sends GET path on every connection at once; the function it
// returns waits for the answers and counts them by status ("error" for none).
func requestAll(conns []net.Conn, path string) func() map[string]int {
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			<-gate
			c.SetDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n", path)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			key := "error"
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				key = fmt.Sprint(resp.StatusCode)
			}
			mu.Lock()
			codes[key]++
			mu.Unlock()
		}()
	}
	close(gate)
	return func() map[string]int {
		wg.Wait()
		return codes
	}
}

// probeText is one /healthz probe as "STATUS/MILLISms", or its quoted error.
func probeText(addr string) string {
	code, d, err := healthProbe(addr)
	if err != nil {
		return fmt.Sprintf("%q", err.Error())
	}
	return fmt.Sprintf("%d/%.1fms", code, ms(d))
}

// rawCase sends raw bytes on a fresh connection and returns the status
// line's code (0 when the server closed without answering).
func rawCase(addr, req string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		// The server may answer and close before a huge request is written.
		_ = err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil
		}
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// abuse plays bad clients against the server and checks each answer.
func abuse(args []string) error {
	fs := flag.NewFlagSet("abuse", flag.ExitOnError)
	addr, pid := serverFlags(fs)
	slow := fs.Int("slow", 100, "slowloris connections")
	fs.Parse(args)

	watch, err := watchRSS(*pid)
	if err != nil {
		return err
	}
	failed := 0
	for _, tc := range badRequests {
		code, err := rawCase(*addr, tc.req)
		res := "ok"
		if err != nil || code != tc.want {
			res = "UNEXPECTED"
			failed++
		}
		detail := ""
		if err != nil {
			detail = " err=" + strings.ReplaceAll(err.Error(), " ", "_")
		}
		fmt.Printf("case %s got %d want %d %s%s\n", tc.name, code, tc.want, res, detail)
	}
	if err := slowloris(*addr, *slow); err != nil {
		return err
	}
	if err := watch.done(0); err != nil {
		return err
	}
	out("unexpected_cases", failed)
	return nil
}

func bigHeader(size int) string {
	return "GET /metrics HTTP/1.1\r\nHost: bench\r\nX-Big: " + strings.Repeat("a", size) + "\r\n\r\n"
}

// badRequests are the bad clients' requests and the answers they must get.
var badRequests = []struct {
	name, req string
	want      int
}{
	{"header_8KiB", bigHeader(8 << 10), 200},
	{"header_17KiB", bigHeader(17 << 10), 431},
	{"header_21KiB", bigHeader(21 << 10), 431},
	{"header_64KiB", bigHeader(64 << 10), 431},
	{"header_1MiB", bigHeader(1 << 20), 431},
	{"malformed_garbage", "GARBAGE\r\n\r\n", 400},
	{"malformed_bad_version", "GET /metrics HTTP/9.9\r\nHost: bench\r\n\r\n", 505},
	{"malformed_no_host", "GET /metrics HTTP/1.1\r\n\r\n", 400},
	{"malformed_header_line", "GET /metrics HTTP/1.1\r\nHost: bench\r\nno colon here\r\n\r\n", 400},
	{"malformed_binary", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400},
	{"unknown_path", "GET /nope HTTP/1.1\r\nHost: bench\r\n\r\n", 404},
	{"unknown_path_under_metrics", "GET /metrics/x HTTP/1.1\r\nHost: bench\r\n\r\n", 404},
	// The router redirects to the cleaned path with a 301; nothing
	// outside the routes is served.
	{"traversal", "GET /../../etc/passwd HTTP/1.1\r\nHost: bench\r\n\r\n", 301},
	{"method_POST_metrics", "POST /metrics HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\n\r\n", 405},
	{"method_DELETE_healthz", "DELETE /healthz HTTP/1.1\r\nHost: bench\r\n\r\n", 405},
	{"method_PUT_sensor", "PUT /sensor HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\n\r\n", 405},
	{"method_BREW", "BREW /metrics HTTP/1.1\r\nHost: bench\r\n\r\n", 405},
}

// slowloris opens n connections that send a request line, then one header
// byte per second: the server's ReadHeaderTimeout (5s) must hang up on every
// one of them.
func slowloris(addr string, n int) error {
	start := time.Now()
	closedAt := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			closedAt[i] = trickle(c, start)
		}()
	}
	time.Sleep(2 * time.Second)
	out("slowloris_healthz_during", probeText(addr))
	wg.Wait()
	var closed []time.Duration
	for _, d := range closedAt {
		if d > 0 && d < 30*time.Second {
			closed = append(closed, d)
		}
	}
	out("slowloris_conns", n)
	out("slowloris_closed", len(closed))
	printStats("slowloris_closed_after_ms", closed)
	return nil
}

// trickle writes a header byte a second on c until the server hangs up, and
// returns when that was after start (0 when it had not 30 s after start).
func trickle(c net.Conn, start time.Time) time.Duration {
	defer c.Close()
	io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
	gone := make(chan struct{})
	go func() {
		// The server closing the connection ends this read.
		c.SetReadDeadline(start.Add(30 * time.Second))
		io.Copy(io.Discard, c)
		close(gone)
	}()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-gone:
			return time.Since(start)
		case <-t.C:
			if _, err := io.WriteString(c, "a"); err != nil {
				return time.Since(start)
			}
		}
	}
}
