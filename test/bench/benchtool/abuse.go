package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	conns := make([]net.Conn, 0, *n)
	for i := 0; i < *n; i++ {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			out("dial_failed_at", i)
			out("dial_error", fmt.Sprintf("%q", err.Error()))
			break
		}
		conns = append(conns, c)
	}
	out("opened", len(conns))
	out("open_ms", ms(time.Since(start)))
	// closedAt records when the server hung up on each connection.
	var closed atomic.Int64
	closedAt := make([]time.Duration, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(start.Add(*holdFor))
			// EOF, a reset or any answer (e.g. a 408) means the server gave up on it.
			if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
				closedAt[i] = time.Since(start)
				closed.Add(1)
			}
		}()
	}
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
	wg.Wait()
	out("closed_by_server", closed.Load())
	var times []time.Duration
	for _, d := range closedAt {
		if d > 0 {
			times = append(times, d)
		}
	}
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
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	start := time.Now()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			<-gate
			c.SetDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n", *path)
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
	code, d, perr := healthProbe(*addr)
	wg.Wait()
	out("burst_ms", ms(time.Since(start)))
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out("status_"+k, codes[k])
	}
	if perr != nil {
		out("healthz_during", fmt.Sprintf("%q", perr.Error()))
	} else {
		out("healthz_during", fmt.Sprintf("%d/%.1fms", code, ms(d)))
	}
	return watch.done(2 * time.Second)
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

	hdr := func(size int) string {
		return "GET /metrics HTTP/1.1\r\nHost: bench\r\nX-Big: " + strings.Repeat("a", size) + "\r\n\r\n"
	}
	cases := []struct {
		name, req string
		want      int
	}{
		{"header_8KiB", hdr(8 << 10), 200},
		{"header_17KiB", hdr(17 << 10), 431},
		{"header_21KiB", hdr(21 << 10), 431},
		{"header_64KiB", hdr(64 << 10), 431},
		{"header_1MiB", hdr(1 << 20), 431},
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
	failed := 0
	for _, tc := range cases {
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

	// Slowloris: a request line, then one header byte per second. The server's
	// ReadHeaderTimeout (5s) must hang up on every one of them.
	start := time.Now()
	closedAt := make([]time.Duration, *slow)
	var wg sync.WaitGroup
	for i := 0; i < *slow; i++ {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
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
					closedAt[i] = time.Since(start)
					return
				case <-t.C:
					if _, err := io.WriteString(c, "a"); err != nil {
						closedAt[i] = time.Since(start)
						return
					}
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	code, d, err := healthProbe(*addr)
	if err != nil {
		out("slowloris_healthz_during", fmt.Sprintf("%q", err.Error()))
	} else {
		out("slowloris_healthz_during", fmt.Sprintf("%d/%.1fms", code, ms(d)))
	}
	wg.Wait()
	var closed []time.Duration
	for _, d := range closedAt {
		if d > 0 && d < 30*time.Second {
			closed = append(closed, d)
		}
	}
	out("slowloris_conns", *slow)
	out("slowloris_closed", len(closed))
	printStats("slowloris_closed_after_ms", closed)
	if err := watch.done(0); err != nil {
		return err
	}
	out("unexpected_cases", failed)
	return nil
}
