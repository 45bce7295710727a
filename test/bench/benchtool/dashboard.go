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

// panelQuery is one query of a panel, by its path on the daemon; charts
// take a range.
type panelQuery struct {
	path  string
	chart bool
}

// queryLoad is the dashboard's panel queries over its longest range, and
// what the clients running them got.
type queryLoad struct {
	base    string
	queries []panelQuery
	rng     time.Duration
	step    int // seconds

	mu    sync.Mutex
	codes map[int]int
	lat   []time.Duration // of the 200s
	bytes int64
}

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

	load, err := panelQueries(*base)
	if err != nil {
		return err
	}
	watch, err := watchRSS(*pid)
	if err != nil {
		return err
	}
	load.run(*clients, time.Now().Add(*duration))
	out("clients", *clients)
	out("queries", len(load.queries))
	out("range_s", int(load.rng.Seconds()))
	out("step_s", load.step)
	total := 0
	for code, n := range load.codes {
		out(fmt.Sprintf("status_%d", code), n)
		total += n
	}
	out("requests", total)
	out("response_kib", load.bytes>>10)
	if lat := load.lat; len(lat) > 0 {
		slices.Sort(lat)
		out("ok_p50_ms", ms(lat[len(lat)/2]))
		out("ok_p99_ms", ms(lat[len(lat)*99/100]))
	}
	return watch.done(0)
}

// panelQueries asks the daemon's /api/dashboard for the panels' queries,
// the longest range and the most points.
func panelQueries(base string) (*queryLoad, error) {
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
	resp, err := http.Get(base + "/api/dashboard")
	if err != nil {
		return nil, err
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || !doc.History || len(doc.Ranges) == 0 {
		return nil, fmt.Errorf("/api/dashboard: history %v, ranges %v, err %v", doc.History, doc.Ranges, err)
	}
	l := &queryLoad{base: base, codes: map[int]int{}}
	for _, p := range doc.Panels {
		for i := range p.Queries {
			l.queries = append(l.queries, panelQuery{fmt.Sprintf("%s/api/panels/%s/%d", base, url.PathEscape(p.ID), i), p.Kind != "stat"})
		}
	}
	if l.rng, err = time.ParseDuration(doc.Ranges[len(doc.Ranges)-1]); err != nil {
		return nil, err
	}
	// Whole seconds, so that (end-start)/step+1 stays within max_points.
	l.step = int(l.rng.Seconds())/(doc.MaxPoints-1) + 1
	return l, nil
}

// run has clients clients run the queries in turn until deadline.
func (l *queryLoad) run(clients int, deadline time.Time) {
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			for i := c; time.Now().Before(deadline); i++ {
				l.query(client, l.queries[i%len(l.queries)])
			}
		}()
	}
	wg.Wait()
}

// query runs one range query through the daemon's proxy and counts its answer.
func (l *queryLoad) query(client *http.Client, q panelQuery) {
	end := time.Now().Unix()
	target := q.path
	if q.chart {
		target += "?" + url.Values{"start": {strconv.FormatInt(end-int64(l.rng.Seconds()), 10)},
			"end": {strconv.FormatInt(end, 10)}, "step": {strconv.Itoa(l.step)}}.Encode()
	}
	t := time.Now()
	code, n := 0, int64(0)
	if resp, err := client.Get(target); err == nil {
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		code = resp.StatusCode
	}
	d := time.Since(t)
	l.mu.Lock()
	l.codes[code]++
	l.bytes += n
	if code == http.StatusOK {
		l.lat = append(l.lat, d)
	}
	l.mu.Unlock()
}
