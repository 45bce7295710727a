package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// promAccept is the Accept header Prometheus 2.x sends when scraping, so
// both exporters negotiate the format they would in production.
const promAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// footprint samples a process idle, then scrapes it -scrapes times
// sequentially over one keep-alive connection the way Prometheus does (its
// Accept header, gzip unless -gzip=false), sampling CPU every 1,000 scrapes, then samples it
// again.
func footprint(args []string) error {
	fs := flag.NewFlagSet("footprint", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process to measure")
	url := fs.String("url", "", "metrics URL")
	scrapes := fs.Int("scrapes", 10000, "scrapes to make (a multiple of 1000)")
	idle := fs.Duration("idle", 3*time.Second, "wait before the idle sample")
	prefix := fs.String("prefix", "", "key prefix")
	useGzip := fs.Bool("gzip", true, "ask for gzip, as Prometheus does")
	interval := fs.Duration("interval", 0, "pace scrapes this far apart (0: back to back)")
	fs.Parse(args)

	s0, err := sampleIdle(*pid, *idle, *prefix)
	if err != nil {
		return err
	}
	// Response sizes, uncompressed and gzipped, in the negotiated format.
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	plain, ctype, err := get(c, *url, false)
	if err != nil {
		return err
	}
	gz, _, err := get(c, *url, true)
	if err != nil {
		return err
	}
	out(*prefix+"content_type", fmt.Sprintf("%q", ctype))
	out(*prefix+"response_bytes", plain)
	out(*prefix+"response_gzip_bytes", gz)

	start := time.Now()
	perK, err := scrapeBlocks(c, *url, *useGzip, *scrapes, *interval, *pid, s0.cpu)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	s1, err := sampleProc(*pid)
	if err != nil {
		return err
	}
	s1.print(*prefix + "after_")
	out(*prefix+"scrapes", *scrapes)
	out(*prefix+"scrape_wall_s", wall.Seconds())
	out(*prefix+"cpu_ms_total", (s1.cpu - s0.cpu).Milliseconds())
	out(*prefix+"sched_cpu_ms_total", fmt.Sprintf("%.2f", ms(s1.schedCPU-s0.schedCPU)))
	sorted := slices.Clone(perK)
	slices.Sort(sorted)
	if len(sorted) > 0 {
		out(*prefix+"cpu_ms_per_1000_median", ms(sorted[len(sorted)/2]))
		out(*prefix+"cpu_ms_per_1000_min", ms(sorted[0]))
		out(*prefix+"cpu_ms_per_1000_max", ms(sorted[len(sorted)-1]))
		out(*prefix+"cpu_ms_per_1000_mean", ms((s1.cpu-s0.cpu)/time.Duration(len(sorted))))
	}
	return nil
}

// sampleIdle waits idle and samples the process, printing the sample and
// the CPU it spent meanwhile (polling only), so that paced runs can tell the
// scrapes' share from the background work.
func sampleIdle(pid int, idle time.Duration, prefix string) (procSample, error) {
	before, err := sampleProc(pid)
	if err != nil {
		return procSample{}, err
	}
	idleStart := time.Now()
	time.Sleep(idle)
	s0, err := sampleProc(pid)
	if err != nil {
		return procSample{}, err
	}
	s0.print(prefix + "idle_")
	if idle > 0 {
		out(prefix+"idle_cpu_ms_per_s", fmt.Sprintf("%.3f", ms(s0.cpu-before.cpu)/time.Since(idleStart).Seconds()))
	}
	return s0, nil
}

// scrapeBlocks scrapes url n times, paced interval apart from the first
// (0: back to back), and returns the process's CPU in each block of 1000
// scrapes, counted from cpu0.
func scrapeBlocks(c *http.Client, url string, gzipOK bool, n int, interval time.Duration, pid int, cpu0 time.Duration) ([]time.Duration, error) {
	var perK []time.Duration
	last := cpu0
	start := time.Now()
	for i := 1; i <= n; i++ {
		if interval > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i-1) * interval)))
		}
		if _, _, err := get(c, url, gzipOK); err != nil {
			return nil, fmt.Errorf("scrape %d: %w", i, err)
		}
		if i%1000 == 0 {
			s, err := sampleProc(pid)
			if err != nil {
				return nil, err
			}
			perK = append(perK, s.cpu-last)
			last = s.cpu
		}
	}
	return perK, nil
}

// get fetches url like a Prometheus scrape and returns the body size on the
// wire (compressed when gzip is asked for and the server used it).
func get(c *http.Client, url string, gzipOK bool) (int64, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept", promAccept)
	if gzipOK {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var n int64
	if resp.Header.Get("Content-Encoding") == "gzip" {
		// Read through the decompressor as Prometheus does, but count wire bytes.
		cr := &countingReader{r: resp.Body}
		zr, err := gzip.NewReader(cr)
		if err != nil {
			return 0, "", err
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return 0, "", err
		}
		n = cr.n
	} else if n, err = io.Copy(io.Discard, resp.Body); err != nil {
		return 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return n, "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return n, resp.Header.Get("Content-Type"), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
