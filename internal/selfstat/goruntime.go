package selfstat

import (
	"regexp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// clashing is the one family of client_golang's Go collector that
// OpenMetrics cannot carry: a counter's family name there is its name
// without _total, so this counter declares go_memstats_alloc_bytes a
// second time, after the gauge of that name, and strict parsers reject
// the whole exposition (Prometheus keeps one of the two declarations).
const clashing = "go_memstats_alloc_bytes_total"

// GoRuntime gathers client_golang's Go collector: go_goroutines,
// go_threads, go_gc_duration_seconds, the go_memstats_* of
// runtime.MemStats, go_info and the GC and scheduler settings, without the
// clashing counter. Its count of bytes allocated is served as
// go_gc_heap_allocs_bytes_total instead, from the runtime/metrics sample
// it was read from (/gc/heap/allocs:bytes), so no figure is lost.
func GoRuntime() prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
		collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/allocs:bytes$`)})))
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := reg.Gather()
		return slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == clashing }), err
	})
}
