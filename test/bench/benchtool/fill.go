package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"
)

// genFill writes OpenMetrics text for promtool tsdb create-blocks-from openmetrics: gauge
// bench_fill with -series series of random values (incompressible for Prometheus's XOR
// encoding), a sample every -every over the -span before -end (Unix seconds).
//
//	benchtool gen-fill [-series 200] [-every 5s] [-span 9h] -end EPOCH FILE
func genFill(args []string) error {
	var (
		fs     = flag.NewFlagSet("gen-fill", flag.ExitOnError)
		series = fs.Int("series", 200, "series")
		every  = fs.Duration("every", 5*time.Second, "sample interval")
		span   = fs.Duration("span", 9*time.Hour, "time covered")
		end    = fs.Int64("end", 0, "Unix time of the end (exclusive)")
	)
	fs.Parse(args)
	if fs.NArg() != 1 || *end <= 0 || *every < time.Second || *series < 1 {
		return fmt.Errorf("want -end EPOCH, -every of a second or more, -series above 0 and FILE")
	}
	f, err := os.Create(fs.Arg(0))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	writeFill(w, *series, int64(*every/time.Second), *end-int64(*span/time.Second), *end)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeFill writes the samples of series series every step seconds from from to end
// (exclusive), one series after the other; the values are the same on every run.
func writeFill(w io.Writer, series int, step, from, end int64) {
	r := rand.New(rand.NewPCG(1, 1))
	fmt.Fprintln(w, "# TYPE bench_fill gauge")
	for i := range series {
		for t := from; t < end; t += step {
			fmt.Fprintf(w, "bench_fill{series=\"%d\"} %.15g %d\n", i, r.Float64(), t)
		}
	}
	fmt.Fprintln(w, "# EOF")
}
