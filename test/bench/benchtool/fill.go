package main

import (
	"bufio"
	"flag"
	"fmt"
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
	fs := flag.NewFlagSet("gen-fill", flag.ExitOnError)
	series := fs.Int("series", 200, "series")
	every := fs.Duration("every", 5*time.Second, "sample interval")
	span := fs.Duration("span", 9*time.Hour, "time covered")
	end := fs.Int64("end", 0, "Unix time of the end (exclusive)")
	fs.Parse(args)
	if fs.NArg() != 1 || *end <= 0 || *every < time.Second || *series < 1 {
		return fmt.Errorf("want -end EPOCH, -every of a second or more, -series above 0 and FILE")
	}
	f, err := os.Create(fs.Arg(0))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(1, 1)) // the same data on every run
	step, from := int64(*every/time.Second), *end-int64(*span/time.Second)
	fmt.Fprintln(w, "# TYPE bench_fill gauge")
	for i := range *series {
		for t := from; t < *end; t += step {
			fmt.Fprintf(w, "bench_fill{series=\"%d\"} %.15g %d\n", i, r.Float64(), t)
		}
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
