package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/common/model"

	"github.com/edgeobs/edge-observability-stack/internal/dashboard"
)

// panel serves GET /api/panels/{id}/{query}: query number {query} (from 0)
// of panel {id}. A timeseries panel's query runs as a range query (start,
// end and step required), a stat panel's as an instant query (time
// optional). The answer is Prometheus's.
func (p *QueryProxy) panel() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.refuseBody(w, r) {
			return
		}
		v := mux.Vars(r)
		path, form, e := p.panelQuery(v["id"], v["query"], r.URL.Query())
		if e != nil {
			writeAPIError(w, e)
			return
		}
		p.serve(w, r, func(ctx context.Context) *apiError { return p.forward(ctx, w, r, path, form) })
	})
}

// panelQuery checks a request for a panel's query and returns the
// Prometheus API path and form to send: the panel list's expression, and
// the client's times as numbers of this process's making.
func (p *QueryProxy) panelQuery(id, index string, params url.Values) (string, url.Values, *apiError) {
	pn, ok := p.panels[id]
	if !ok {
		return "", nil, &apiError{http.StatusNotFound, "not_found", fmt.Sprintf("unknown panel %q (GET /api/dashboard lists them)", id)}
	}
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || i >= len(pn.Queries) || strconv.Itoa(i) != index {
		return "", nil, &apiError{http.StatusNotFound, "not_found", fmt.Sprintf("panel %q has no query %q (it has %d, from 0)", id, index, len(pn.Queries))}
	}
	form := url.Values{"query": {pn.Queries[i].Expr},
		"timeout": {model.Duration((p.limits.Timeout + grace).Truncate(time.Millisecond)).String()}}
	if pn.Kind == dashboard.KindStat {
		return "api/v1/query", form, instantParams(params, form)
	}
	return "api/v1/query_range", form, p.rangeParams(params, form)
}

// only refuses parameters other than names, and any given twice.
func only(params url.Values, names ...string) *apiError {
	for k, v := range params {
		known := false
		for _, n := range names {
			known = known || k == n
		}
		switch {
		case !known && len(names) == 0:
			return badData("unknown parameter %q (this takes none)", k)
		case !known:
			return badData("unknown parameter %q (this takes %s)", k, strings.Join(names, ", "))
		case len(v) > 1:
			return badData("parameter %q given %d times", k, len(v))
		}
	}
	return nil
}

// instantParams checks the optional time of an instant query into out.
func instantParams(params, out url.Values) *apiError {
	if e := only(params, "time"); e != nil {
		return e
	}
	if s := params.Get("time"); s != "" {
		t, err := parseTime(s)
		if err != nil {
			return badData("invalid parameter \"time\": %v", err)
		}
		out.Set("time", formatSeconds(t))
	}
	return nil
}

// rangeParams checks start, end and step against the limits into out.
func (p *QueryProxy) rangeParams(params, out url.Values) *apiError {
	if e := only(params, "start", "end", "step"); e != nil {
		return e
	}
	var t [2]float64
	for i, name := range []string{"start", "end"} {
		s := params.Get(name)
		if s == "" {
			return badData("missing parameter %q", name)
		}
		v, err := parseTime(s)
		if err != nil {
			return badData("invalid parameter %q: %v", name, err)
		}
		t[i] = v
	}
	start, end := t[0], t[1]
	if end < start {
		return badData("invalid parameter \"end\": end timestamp must not be before start time")
	}
	if span := time.Duration((end - start) * float64(time.Second)); span > p.limits.MaxRange {
		return badData("range %s is longer than the maximum of %s", model.Duration(span), model.Duration(p.limits.MaxRange))
	}
	s := params.Get("step")
	step, err := parseDuration(s)
	if s == "" || err != nil || step < time.Millisecond {
		return badData("invalid parameter \"step\": %q is not a duration of 1ms or more", s)
	}
	if points := (end-start)/step.Seconds() + 1; points > float64(p.limits.MaxPoints) {
		return badData("exceeded maximum resolution of %d points per timeseries. Try decreasing the query resolution (?step=XX)", p.limits.MaxPoints)
	}
	out.Set("start", formatSeconds(start))
	out.Set("end", formatSeconds(end))
	out.Set("step", formatSeconds(step.Seconds()))
	return nil
}

func formatSeconds(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// maxTime bounds times well within what Prometheus reads without overflow
// (its timestamps are milliseconds in an int64).
const maxTime = math.MaxInt64 / 1000 / 1000

// parseTime reads a time as Prometheus's API does: Unix seconds, or RFC 3339.
func parseTime(s string) (float64, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > maxTime {
			return 0, fmt.Errorf("%q is not a time", s)
		}
		return v, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse %q to a valid timestamp", s)
	}
	// Milliseconds, as Prometheus reads them: the shortest decimal of the
	// float is then the time as written.
	return float64(t.UnixMilli()) / 1000, nil
}

// parseDuration reads a duration as Prometheus's API does: seconds, or a
// Prometheus duration ("15s", "1m30s").
func parseDuration(s string) (time.Duration, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxInt64/1e9 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return time.Duration(v * float64(time.Second)), nil
	}
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}
