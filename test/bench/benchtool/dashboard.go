package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// dashboard plays -clients browsers on the built-in dashboard: each fetches
// /api/dashboard, then asks for every panel's queries, charts over the
// longest range at the most points allowed, again and again for -duration,
// through the daemon. It prints the answers by status, the query latencies
// and the daemon's memory before and at its peak.
func dashboard(args []string) error {
	fs := flag.NewFlagSet("dashboard", flag.ExitOnError)
	base := fs.String("url", "", "daemon base URL, http://host:port")
	pid := fs.Int("pid", 0, "daemon process")
	clients := fs.Int("clients", 2, "concurrent clients")
	duration := fs.Duration("duration", 60*time.Second, "how long")
	fs.Parse(args)

	var doc struct {
		History   bool     `json:"history"`
		Ranges    []string `json:"ranges"`
		MaxPoints int      `json:"max_points"`
		Panels    []struct {
			ID      string                  `json:"id"`
			Kind    string                  `json:"kind"`
			Queries []struct{ Expr string } `json:"queries"`
		} `json:"panels"`
	}
	resp, err := http.Get(*base + "/api/dashboard")
	if err != nil {
		return err
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || !doc.History || len(doc.Ranges) == 0 {
		return fmt.Errorf("/api/dashboard: history %v, ranges %v, err %v", doc.History, doc.Ranges, err)
	}
	type panelQuery struct {
		path  string
		chart bool
	}
	var queries []panelQuery
	for _, p := range doc.Panels {
		for i := range p.Queries {
			queries = append(queries, panelQuery{fmt.Sprintf("%s/api/panels/%s/%d", *base, url.PathEscape(p.ID), i), p.Kind != "stat"})
		}
	}
	rng, err := time.ParseDuration(doc.Ranges[len(doc.Ranges)-1])
	if err != nil {
		return err
	}
	// Whole seconds, so that (end-start)/step+1 stays within max_points.
	step := int(rng.Seconds())/(doc.MaxPoints-1) + 1

	watch, err := watchRSS(*pid)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var lat []time.Duration
	var bytes int64
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for i := c; time.Now().Before(deadline); i++ {
				end := time.Now().Unix()
				q := queries[i%len(queries)]
				target := q.path
				if q.chart {
					target += "?" + url.Values{"start": {strconv.FormatInt(end-int64(rng.Seconds()), 10)},
						"end": {strconv.FormatInt(end, 10)}, "step": {strconv.Itoa(step)}}.Encode()
				}
				t := time.Now()
				code, n := 0, int64(0)
				if resp, err := client.Get(target); err == nil {
					n, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				d := time.Since(t)
				mu.Lock()
				codes[code]++
				bytes += n
				if code == http.StatusOK {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	out("clients", *clients)
	out("queries", len(queries))
	out("range_s", int(rng.Seconds()))
	out("step_s", step)
	total := 0
	for code, n := range codes {
		out(fmt.Sprintf("status_%d", code), n)
		total += n
	}
	out("requests", total)
	out("response_kib", bytes>>10)
	if len(lat) > 0 {
		slices.Sort(lat)
		out("ok_p50_ms", ms(lat[len(lat)/2]))
		out("ok_p99_ms", ms(lat[len(lat)*99/100]))
	}
	return watch.done(0)
}
