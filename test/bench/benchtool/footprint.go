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

	// CPU spent while idle (polling only), so paced runs can tell the
	// scrapes' share from the background work.
	before, err := sampleProc(*pid)
	if err != nil {
		return err
	}
	idleStart := time.Now()
	time.Sleep(*idle)
	s0, err := sampleProc(*pid)
	if err != nil {
		return err
	}
	s0.print(*prefix + "idle_")
	if *idle > 0 {
		out(*prefix+"idle_cpu_ms_per_s", fmt.Sprintf("%.3f", ms(s0.cpu-before.cpu)/time.Since(idleStart).Seconds()))
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

	var perK []time.Duration
	last := s0.cpu
	start := time.Now()
	for i := 1; i <= *scrapes; i++ {
		if *interval > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i-1) * *interval)))
		}
		if _, _, err := get(c, *url, *useGzip); err != nil {
			return fmt.Errorf("scrape %d: %w", i, err)
		}
		if i%1000 == 0 {
			s, err := sampleProc(*pid)
			if err != nil {
				return err
			}
			perK = append(perK, s.cpu-last)
			last = s.cpu
		}
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
