package selfstat

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// Every family keeps a name of its own in OpenMetrics (a counter's is its
// name without _total), the classic Go metrics are all there, and the
// bytes allocated are counted under the new name.
func TestGoRuntimeOpenMetricsNamesUnique(t *testing.T) {
	mfs, err := GoRuntime().Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	omNames := map[string]string{}
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
		om := mf.GetName()
		if mf.GetType() == dto.MetricType_COUNTER {
			om = strings.TrimSuffix(om, "_total")
		}
		if other, ok := omNames[om]; ok {
			t.Errorf("%s and %s are both %s in OpenMetrics", other, mf.GetName(), om)
		}
		omNames[om] = mf.GetName()
	}
	for name, typ := range map[string]dto.MetricType{
		"go_goroutines": dto.MetricType_GAUGE, "go_threads": dto.MetricType_GAUGE, "go_info": dto.MetricType_GAUGE,
		"go_gc_duration_seconds": dto.MetricType_SUMMARY, "go_memstats_alloc_bytes": dto.MetricType_GAUGE,
		"go_memstats_heap_alloc_bytes": dto.MetricType_GAUGE, "go_memstats_heap_inuse_bytes": dto.MetricType_GAUGE,
		"go_memstats_sys_bytes": dto.MetricType_GAUGE, "go_memstats_next_gc_bytes": dto.MetricType_GAUGE,
		"go_memstats_mallocs_total": dto.MetricType_COUNTER, "go_memstats_frees_total": dto.MetricType_COUNTER,
		"go_memstats_last_gc_time_seconds": dto.MetricType_GAUGE, "go_gc_heap_allocs_bytes_total": dto.MetricType_COUNTER,
	} {
		if mf := byName[name]; mf == nil || mf.GetType() != typ {
			t.Errorf("%s: %v, want a %v", name, mf, typ)
		}
	}
	allocated := byName["go_gc_heap_allocs_bytes_total"].GetMetric()[0].GetCounter().GetValue()
	if inUse := byName["go_memstats_alloc_bytes"].GetMetric()[0].GetGauge().GetValue(); allocated < inUse || inUse <= 0 {
		t.Errorf("allocated %v bytes, fewer than the %v in use", allocated, inUse)
	}
}
