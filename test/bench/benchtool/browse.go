package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// pageTally counts the page's requests and what went wrong with them.
type pageTally struct {
	mu                                      sync.Mutex
	start                                   time.Time
	log                                     io.Writer
	pending                                 map[network.RequestID]string // URL and status so far
	requests, failed, errStatus, exceptions int
	bytes                                   float64
	firstProblem                            string
}

// browse keeps a page open in headless Chromium for a while, as a viewer
// would, and counts what the page fetched: a dashboard that refreshes itself
// loads its server for as long as it is open.
//
//	benchtool browse -url URL [-duration DUR] [-chromium PATH]
func browse(args []string) error {
	fs := flag.NewFlagSet("browse", flag.ExitOnError)
	url := fs.String("url", "", "page to open")
	dur := fs.Duration("duration", time.Minute, "how long the page stays open")
	bin := fs.String("chromium", "/usr/bin/chromium", "browser executable")
	logPath := fs.String("log", "", "file for one line per request: seconds, status, bytes, URL")
	shot := fs.String("screenshot", "", "PNG of the page at the end")
	fs.Parse(args)
	if *url == "" {
		return fmt.Errorf("-url is required")
	}
	dir, err := os.MkdirTemp("", "benchtool-browse-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := chromium(*bin, dir)
	defer cancel()
	tally := pageTally{start: time.Now(), pending: map[network.RequestID]string{}}
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			return err
		}
		defer f.Close()
		tally.log = f
	}
	if err := chromedp.Listen(ctx, tally.listen); err != nil {
		return fmt.Errorf("starting chromium: %w", err)
	}
	// A headless window never has the focus, and a dashboard that pauses
	// while out of focus (Netdata's does) would stop refreshing.
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		return fmt.Errorf("focus emulation: %w", err)
	}
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(*url)); err != nil {
		return fmt.Errorf("opening %s: %w", *url, err)
	}
	tally.mu.Lock()
	loaded := tally.requests
	tally.mu.Unlock()
	time.Sleep(time.Until(start.Add(*dur)))
	if *shot != "" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			return fmt.Errorf("screenshot: %w", err)
		}
		if err := os.WriteFile(*shot, png, 0o644); err != nil {
			return err
		}
	}
	tally.print(start, loaded)
	return nil
}

// chromium starts a headless Chromium with a profile in dir; cancel stops it.
func chromium(bin, dir string) (ctx context.Context, cancel func()) {
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		// Only 127.0.0.1 resolves: what a page fetches from the internet fails
		// here, as on a device that is offline, and sends nothing.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		// A page in a background tab may stop refreshing; this one must not.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.WindowSize(1280, 900), chromedp.UserDataDir(dir))
	ctx, cancelCtx := chromedp.NewContext(actx)
	return ctx, func() { cancelCtx(); cancelAlloc() }
}

// print prints the counts of a page open since start, which had made
// loaded requests once its navigation finished.
func (p *pageTally) print(start time.Time, loaded int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out("open_s", time.Since(start).Seconds())
	out("requests_first_load", loaded)
	out("requests", p.requests)
	out("requests_failed", p.failed)
	out("responses_4xx_5xx", p.errStatus)
	out("transfer_bytes", int64(p.bytes))
	out("exceptions", p.exceptions)
	if p.firstProblem != "" {
		out("first_problem", strings.ReplaceAll(p.firstProblem, "\n", " "))
	}
}

func (p *pageTally) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.requests++
		p.pending[ev.RequestID] = "- " + ev.Request.URL
	case *network.EventResponseReceived:
		p.pending[ev.RequestID] = fmt.Sprintf("%d %s", ev.Response.Status, ev.Response.URL)
		if ev.Response.Status >= 400 {
			p.errStatus++
			p.problem(fmt.Sprintf("%d %s", ev.Response.Status, ev.Response.URL))
		}
	case *network.EventLoadingFinished:
		p.bytes += ev.EncodedDataLength
		p.done(ev.RequestID, int64(ev.EncodedDataLength), "")
	case *network.EventLoadingFailed:
		p.failed++
		p.problem("failed: " + ev.ErrorText)
		p.done(ev.RequestID, 0, " "+ev.ErrorText)
	case *runtime.EventExceptionThrown:
		p.exceptions++
		p.problem("exception: " + ev.ExceptionDetails.Text)
	}
}

func (p *pageTally) done(id network.RequestID, bytes int64, errText string) {
	if p.log != nil {
		fmt.Fprintf(p.log, "%.3f %d %s%s\n", time.Since(p.start).Seconds(), bytes, p.pending[id], errText)
	}
	delete(p.pending, id)
}

func (p *pageTally) problem(s string) {
	if p.firstProblem == "" {
		p.firstProblem = s
	}
}
