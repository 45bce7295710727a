// The device's dashboard: current readings from /sensor, history from the
// panels' own queries, which the daemon runs on Prometheus, charts drawn by uPlot. Everything is
// fetched from this origin with relative URLs, so the page also works behind
// a reverse proxy under a sub-path.
(function () {
  'use strict';

  var RANGES = { '15m': 900, '1h': 3600, '6h': 21600, '12h': 43200 };
  var PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#8c8c8c'];
  var SENSOR_UNITS = { celsius: 'celsius', volts: 'volt', amperes: 'amp', watts: 'watt', rpm: 'rpm', ratio: 'percentunit', pascals: 'pressurepa', lux: 'lux' };
  var QUERY_WORKERS = 2; // the daemon runs few queries at once per client (--dashboard.max-queries-per-client)
  var TIMEOUT_MS = 15000;

  var state = {
    doc: null, range: '1h', refreshMs: 15000, timer: 0, busy: false, again: false,
    rangeChosen: false, // by the person (a button, or #range= in the URL), not by the daemon
    skew: 0, // device clock minus this browser's, from the Date header
    panels: {}, // id -> {panel, el, chart, data, key}
    sectionsKey: ''
  };
  // Read by the browser test: what every panel holds; empty lists the charts
  // whose queries answered with no series (drawn as "No data").
  var exposed = window.edgeDashboard = { charts: {}, stats: {}, empty: {}, errors: {}, refreshes: 0, history: null, alerts: null, busy: false };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // ---- numbers and units (Grafana unit ids) ----
  function num(v, digits) {
    var a = Math.abs(v);
    var d = digits != null ? digits : a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
    return String(Number(v.toFixed(d)));
  }
  function scaled(v, base, units) {
    var i = 0;
    while (Math.abs(v) >= base && i < units.length - 1) { v /= base; i++; }
    return num(v) + ' ' + units[i];
  }
  function si(v, sym) {
    var a = Math.abs(v);
    if (a === 0) return '0 ' + sym;
    if (a < 1e-3) return num(v * 1e6) + ' µ' + sym;
    if (a < 1) return num(v * 1e3) + ' m' + sym;
    return scaled(v, 1000, [sym, 'k' + sym, 'M' + sym, 'G' + sym]);
  }
  function duration(v) {
    var a = Math.abs(v);
    if (a === 0) return '0 s';
    if (a < 1e-3) return num(v * 1e6) + ' µs';
    if (a < 1) return num(v * 1e3) + ' ms';
    if (a < 120) return num(v) + ' s';
    if (a < 7200) return num(v / 60) + ' min';
    if (a < 172800) return num(v / 3600) + ' h';
    return num(v / 86400) + ' d';
  }
  function fmt(unit, v) {
    if (v == null || isNaN(v)) return '–';
    switch (unit) {
      case 'celsius': return num(v, Math.abs(v) >= 100 ? 0 : 1) + ' °C';
      case 'fahrenheit': return num(v, 1) + ' °F';
      case 'volt': return si(v, 'V');
      case 'amp': return si(v, 'A');
      case 'watt': return si(v, 'W');
      case 'hertz': return si(v, 'Hz');
      case 'rpm': return num(v, 0) + ' rpm';
      case 'percentunit': return num(v * 100, Math.abs(v) >= 0.1 ? 1 : 2) + ' %';
      case 'percent': return num(v, 1) + ' %';
      case 'pressurepa': return Math.abs(v) >= 100 ? num(v / 100, 1) + ' hPa' : num(v) + ' Pa';
      case 'pressurehpa': return num(v, 1) + ' hPa';
      case 'lux': return num(v) + ' lx';
      case 'bytes': return scaled(v, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB']);
      case 'decbytes': return scaled(v, 1000, ['B', 'kB', 'MB', 'GB', 'TB']);
      case 's': return duration(v);
      case 'ms': return duration(v / 1000);
      case 'ops': case 'reqps': return num(v) + ' /s';
      case 'Bps': return scaled(v, 1024, ['B/s', 'KiB/s', 'MiB/s', 'GiB/s']);
      case 'bool_yes_no': return v >= 0.5 ? 'yes' : 'no';
      case 'short': case 'none': case '': case undefined:
        return Math.abs(v) >= 1e4 ? scaled(v, 1000, ['', 'k', 'M', 'G', 'T']).trim() : num(v);
      default: return num(v) + ' ' + unit;
    }
  }
  function age(seconds) {
    if (seconds < 1) return 'now';
    if (seconds < 90) return Math.round(seconds) + ' s ago';
    if (seconds < 5400) return Math.round(seconds / 60) + ' min ago';
    return Math.round(seconds / 3600) + ' h ago';
  }

  // ---- HTTP ----
  // request GETs JSON; a failure throws an Error with .status and the
  // server's own message (Prometheus-style {"error": ...} or plain text).
  function request(url) {
    var ctl = new AbortController();
    var t = setTimeout(function () { ctl.abort(); }, TIMEOUT_MS);
    return fetch(url, { cache: 'no-store', signal: ctl.signal }).then(function (resp) {
      var date = Date.parse(resp.headers.get('Date'));
      if (!isNaN(date)) state.skew = date - Date.now();
      return resp.text().then(function (text) {
        var json = null;
        try { json = JSON.parse(text); } catch (e) { /* plain-text error */ }
        if (!resp.ok || json == null || json.status === 'error') {
          var err = new Error((json && json.error) || text.trim() || resp.statusText || 'request failed');
          err.status = resp.status;
          err.retryAfter = parseInt(resp.headers.get('Retry-After'), 10);
          throw err;
        }
        return json;
      });
    }, function (e) {
      var err = new Error(e.name === 'AbortError' ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s' : 'cannot reach edge-sensord');
      err.status = 0;
      throw err;
    }).finally(function () { clearTimeout(t); });
  }
  // query sends a query when one of QUERY_WORKERS slots is free, in the
  // order asked, and retries one the proxy turned away as busy (another
  // page is open too) after the pause it asks for.
  var slots = { free: QUERY_WORKERS, queue: [] };
  function nextSlot() {
    while (slots.free > 0 && slots.queue.length) { slots.free--; slots.queue.shift()(); }
  }
  function query(url, tries) {
    var sent = new Promise(function (ok) { slots.queue.push(ok); nextSlot(); })
      .then(function () { return request(url); })
      .finally(function () { slots.free++; nextSlot(); });
    return sent.catch(function (err) {
      if (err.status !== 503 || !(err.retryAfter >= 0) || (tries || 0) >= 3) throw err;
      return new Promise(function (ok) { setTimeout(ok, err.retryAfter * 1000 + Math.random() * 500); })
        .then(function () { return query(url, (tries || 0) + 1); });
    });
  }
  function deviceNow() { return Date.now() + state.skew; }

  // ---- banners ----
  function banners(list) {
    var box = $('banners');
    box.replaceChildren();
    list.forEach(function (b) {
      var d = el('div', 'banner' + (b.error ? ' error' : ''), b.text);
      d.setAttribute('role', b.error ? 'alert' : 'status');
      box.appendChild(d);
    });
  }

  // ---- health ----
  // Is the device OK? Prometheus's pending and firing alerts (GET
  // api/alerts, firing first), in words, each with what to do, above
  // everything else; "OK" when none fires. Hidden when the daemon has no
  // Prometheus.
  function renderAlerts(doc, err) {
    var box = $('alerts'), list = $('alert-list');
    box.hidden = false;
    list.replaceChildren();
    exposed.alerts = null;
    box.className = '';
    if (err) { $('alerts-summary').textContent = 'unknown: ' + err.message; return; }
    var alerts = (doc.data && doc.data.alerts) || [];
    var firing = alerts.filter(function (a) { return a.state === 'firing'; }).length;
    var summary = firing ? firing + (firing === 1 ? ' problem' : ' problems') : 'OK: no alert firing';
    if (alerts.length > firing) summary += ', ' + (alerts.length - firing) + ' pending';
    if (doc.data && doc.data.omitted) summary += ', ' + doc.data.omitted + ' more not shown';
    $('alerts-summary').textContent = summary;
    box.className = firing ? 'problems' : 'ok';
    exposed.alerts = alerts.map(function (a) { return { name: a.name, state: a.state, severity: a.severity || '' }; });
    alerts.forEach(function (a) {
      var li = el('li', 'card ' + a.state);
      li.appendChild(el('span', 'sev', a.severity || 'alert'));
      li.appendChild(el('strong', null, a.summary || a.name));
      var since = a.activeAt ? new Date(a.activeAt).toLocaleString() : '';
      li.appendChild(el('span', 'since', a.name + ', ' + (a.state === 'firing' ? 'firing' : 'pending') + (since ? ' since ' + since : '')));
      if (a.description) {
        var d = el('details');
        d.appendChild(el('summary', null, 'What to do'));
        d.appendChild(el('p', null, a.description));
        li.appendChild(d);
      }
      list.appendChild(li);
    });
  }

  // ---- current readings ----
  // Readings are grouped by device as `sensors` does it: a card per chip
  // with a row per sensor, named by its label or by what its name adds to
  // the chip's. Chips with one sensor (1-wire, thermal zones) share a card
  // per source, as do failed sensors whose chip is unknown.
  function renderSensors(list) {
    var now = deviceNow() / 1000;
    var counts = { ok: 0, error: 0, stale: 0 };
    var perChip = {}, prefixes = [];
    list.forEach(function (s) {
      if (!s.chip) return;
      var key = s.source + '_' + s.chip.replace(/[^a-zA-Z0-9]/g, '_') + '_';
      if (!perChip[key]) prefixes.push(key);
      perChip[key] = (perChip[key] || 0) + 1;
    });
    var groups = [], byKey = {};
    list.forEach(function (s) {
      counts[s.status] = (counts[s.status] || 0) + 1;
      var prefix = prefixes.filter(function (p) { return s.name.indexOf(p) === 0; })[0];
      var shared = !prefix || perChip[prefix] < 2;
      var key = shared ? s.source : prefix;
      if (!byKey[key]) {
        byKey[key] = { title: shared ? s.source : s.chip, sub: shared ? '' : s.source, rows: [] };
        groups.push(byKey[key]);
      }
      var name = s.label || (shared ? s.chip || s.name.replace(s.source + '_', '') : s.name.slice(prefix.length));
      byKey[key].rows.push(sensorRow(s, name, now));
    });
    var root = $('sensors');
    root.replaceChildren();
    groups.forEach(function (g) {
      var card = el('li', 'card');
      var h = card.appendChild(el('h3', null, g.title + ' '));
      if (g.sub) h.appendChild(el('small', null, g.sub));
      g.rows.forEach(function (r) { card.appendChild(r); });
      root.appendChild(card);
    });
    $('readings-summary').textContent = list.length + ' sensors: ' + counts.ok + ' ok, ' +
      counts.error + ' error, ' + counts.stale + ' stale';
    keyboardScroll($('readings'));
  }

  function sensorRow(s, name, now) {
    var row = el('div', 'row ' + s.status);
    row.title = s.name;
    row.appendChild(breakable(el('span', 'name'), name));
    row.appendChild(el('span', 'value', s.value == null ? '–' : fmt(SENSOR_UNITS[s.unit] || s.unit, s.value)));
    var t = Date.parse(s.time);
    var when = isNaN(t) || t <= 0 ? 'never' : age(now - t / 1000);
    row.appendChild(el('span', s.status === 'ok' ? 'age' : 'age status-' + s.status, s.status === 'ok' ? when : s.status));
    if (s.error) {
      var e = row.appendChild(el('span', 'err', shortError(s.error)));
      e.title = s.error;
    }
    return row;
  }

  // breakable fills e with text that may wrap after each '_': sensor names
  // are long identifiers without spaces.
  function breakable(e, text) {
    text.split('_').forEach(function (part, i, all) {
      e.appendChild(document.createTextNode(part + (i < all.length - 1 ? '_' : '')));
      if (i < all.length - 1) e.appendChild(document.createElement('wbr'));
    });
    return e;
  }
  // shortError drops the sysfs path from a read error ("range: /sys/...:
  // out of range: ..."): the sensor's name already says which file it is.
  function shortError(msg) {
    return msg.replace(/\S*\/\S*(?: \([^)]*\))?: /g, '');
  }

  // ---- panels ----
  function legend(tpl, metric) {
    if (!tpl) {
      var name = metric.__name__ || '';
      var labels = Object.keys(metric).filter(function (k) { return k !== '__name__'; })
        .map(function (k) { return k + '="' + metric[k] + '"'; });
      return labels.length ? name + '{' + labels.join(', ') + '}' : name || 'value';
    }
    var s = tpl.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, function (_, k) { return metric[k] || ''; });
    return s.replace(/\s+/g, ' ').trim() || tpl;
  }
  // distinct tells apart series whose legends came out the same (two
  // sensors of one chip without labels) by the sensor's name.
  function distinct(labels, metrics) {
    var seen = {};
    labels.forEach(function (l) { seen[l] = (seen[l] || 0) + 1; });
    return labels.map(function (l, i) {
      if (seen[l] < 2) return l;
      var m = metrics[i];
      return l + ' (' + (m.sensor || m.device || m.instance || i + 1) + ')';
    });
  }
  function value(v) {
    if (v === '+Inf' || v === '-Inf' || v === 'NaN') return null;
    var f = parseFloat(v);
    return isFinite(f) ? f : null;
  }

  function buildSections(doc) {
    var key = doc.panels.map(function (p) { return p.id; }).join(',');
    if (key === state.sectionsKey) return;
    state.sectionsKey = key;
    Object.keys(state.panels).forEach(function (id) { dropChart(state.panels[id]); });
    state.panels = {};
    var root = $('sections');
    root.replaceChildren();
    var grids = {};
    doc.panels.forEach(function (p) {
      if (!grids[p.section]) {
        var sec = el('section');
        sec.appendChild(el('h2', null, p.section));
        grids[p.section] = sec.appendChild(el('div', 'panels'));
        root.appendChild(sec);
      }
      var card = el('article', 'card panel');
      card.id = 'panel-' + p.id;
      card.appendChild(el('h3', null, p.title));
      if (p.description) card.appendChild(el('p', 'desc', p.description));
      var body = card.appendChild(el('div', p.kind === 'stat' ? 'stat' : 'chart'));
      var msg = card.appendChild(el('div', 'msg', 'Loading…'));
      grids[p.section].appendChild(card);
      state.panels[p.id] = { panel: p, body: body, msg: msg, chart: null, key: '', data: null };
    });
  }

  function setMessage(st, text, isError) {
    st.msg.textContent = text || '';
    st.msg.className = 'msg' + (isError ? ' error' : '');
    st.msg.hidden = !text;
    if (isError) exposed.errors[st.panel.id] = text; else delete exposed.errors[st.panel.id];
  }

  function dropChart(st) {
    if (st.chart) st.chart.destroy();
    st.chart = null;
    st.key = '';
    delete exposed.charts[st.panel.id];
    delete exposed.empty[st.panel.id];
  }

  // window picks the step: about one point per pixel of the chart and never
  // more than the proxy's max_points per series.
  function window_(st) {
    var secs = RANGES[state.range];
    var width = Math.max(st.body.clientWidth || 300, 100);
    var points = Math.max(Math.min(width, state.doc.max_points || 11000), 2);
    var step = Math.max(Math.ceil(secs / (points - 1)), 1);
    var end = Math.floor(deviceNow() / 1000 / step) * step;
    return { start: end - Math.floor(secs / step) * step, end: end, step: step };
  }

  // panelURL names query qi of panel p and its time: the daemon runs the
  // panel's own expression, nothing the page writes.
  function panelURL(p, qi, params) {
    return 'api/panels/' + encodeURIComponent(p.id) + '/' + qi + '?' + new URLSearchParams(params);
  }

  function loadTimeseries(st) {
    var p = st.panel;
    var w = window_(st);
    // Until the window moves by a step there is no new point to draw: long
    // ranges re-query once per step, not on every refresh.
    var at = w.start + '/' + w.step;
    if (st.window === at) return Promise.resolve();
    st.window = '';
    return Promise.all(p.queries.map(function (q, qi) {
      return query(panelURL(p, qi, { start: w.start, end: w.end, step: w.step }));
    })).then(function (results) {
      var n = Math.round((w.end - w.start) / w.step) + 1;
      var xs = new Array(n);
      for (var i = 0; i < n; i++) xs[i] = w.start + i * w.step;
      var labels = [], metrics = [], limits = [], cols = [];
      results.forEach(function (r, qi) {
        (r.data.result || []).forEach(function (s) {
          var col = new Array(n).fill(null);
          s.values.forEach(function (pt) {
            var idx = Math.round((pt[0] - w.start) / w.step);
            if (idx >= 0 && idx < n) col[idx] = value(pt[1]);
          });
          labels.push(legend(p.queries[qi].legend, s.metric));
          metrics.push(s.metric);
          // A limit is known by its query's legend (dashboard.LimitSuffix), not by
          // the legend drawn, which distinct() may extend.
          limits.push(/ limit$/.test(p.queries[qi].legend));
          cols.push(col);
        });
      });
      st.limits = limits;
      drawChart(st, distinct(labels, metrics), [xs].concat(cols));
      setMessage(st, cols.length ? '' : 'No data in this range.', false);
      st.window = at;
    });
  }

  function loadStat(st) {
    var p = st.panel;
    var t = Math.floor(deviceNow() / 1000);
    return Promise.all(p.queries.map(function (q, qi) {
      return query(panelURL(p, qi, { time: t }));
    })).then(function (results) {
      var items = [];
      results.forEach(function (r, qi) {
        var d = r.data;
        var rows = d.resultType === 'vector' ? d.result : d.resultType === 'scalar' ? [{ metric: {}, value: d.result }] : [];
        rows.forEach(function (s) {
          items.push({ label: legend(p.queries[qi].legend, s.metric), value: value(s.value[1]) });
        });
      });
      st.body.replaceChildren();
      items.forEach(function (it) {
        var d = el('div');
        d.appendChild(el('b', null, fmt(p.unit, it.value)));
        d.appendChild(el('span', null, it.label));
        st.body.appendChild(d);
      });
      exposed.stats[p.id] = items;
      setMessage(st, items.length ? '' : 'No data.', false);
    });
  }

  var timeFmt = function (d) { return (timeFmt = uPlot.fmtDate('{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}'))(d); };
  function latest(col) {
    for (var i = col.length - 1; i >= 0; i--) if (col[i] != null) return col[i];
    return null;
  }

  // keyboardScroll lets the keyboard reach a box that scrolls (a long
  // legend, the readings' column): focusable, and named, only while its
  // content overflows.
  function keyboardScroll(e, label) {
    if (!e) return;
    if (label) e.setAttribute('aria-label', label);
    if (e.scrollHeight > e.clientHeight + 1) e.tabIndex = 0; else e.removeAttribute('tabindex');
  }

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  function axisSize(u, values, i, cycle) {
    var axis = u.axes[i];
    if (cycle > 1) return axis._size;
    var size = axis.ticks.size + axis.gap;
    var longest = (values || []).reduce(function (a, v) { return v.length > a.length ? v : a; }, '');
    if (longest) { u.ctx.font = axis.font[0]; size += u.ctx.measureText(longest).width / devicePixelRatio; }
    return Math.ceil(size);
  }

  // yScale draws ratios on 0–100 % (more when a value is above) and states
  // on no/yes.
  function yScale(unit) {
    if (unit === 'percentunit') return { range: function (u, min, max) { return [Math.min(0, min), Math.max(1, max)]; } };
    if (unit === 'bool_yes_no') return { range: function () { return [-0.05, 1.05]; } };
    return {};
  }

  function chartOpts(st, labels) {
    var unit = st.panel.unit;
    var fg = cssVar('--muted'), grid = cssVar('--grid');
    var axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    var y = Object.assign({}, axis, { size: axisSize, values: function (u, splits) { return splits.map(function (v) { return fmt(unit, v); }); } });
    var legendKeys = function (u) { keyboardScroll(u.root.querySelector('.u-legend'), st.panel.title + ': series'); };
    return {
      width: Math.max(st.body.clientWidth, 100),
      height: window.innerWidth < 600 ? 170 : 200,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      // A legend's values change its height: whether it scrolls is asked again.
      hooks: { ready: [legendKeys], setSize: [legendKeys], setLegend: [legendKeys] },
      scales: { x: { time: true }, y: yScale(unit) },
      axes: [axis, unit === 'bool_yes_no' ? Object.assign(y, { splits: function () { return [0, 1]; } }) : y],
      // Off the chart, the legend shows each series' latest value.
      series: [{
        label: 'Time',
        value: function (u, v, si, idx) { return idx == null ? 'latest' : timeFmt(new Date(v * 1000)); }
      }].concat(labels.map(function (l, i) {
        return {
          label: l, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false, points: { show: false },
          dash: st.limits && st.limits[i] ? [6, 4] : undefined,
          paths: unit === 'bool_yes_no' ? uPlot.paths.stepped({ align: 1 }) : undefined,
          value: function (u, v, si, idx) { return fmt(unit, idx == null ? latest(u.data[si]) : v); }
        };
      }))
    };
  }

  function drawChart(st, labels, data) {
    st.data = { labels: labels, data: data };
    var key = labels.join('\n');
    if (!labels.length) { dropChart(st); exposed.empty[st.panel.id] = true; return; }
    if (st.chart && st.key === key) { st.chart.setData(data); return; }
    dropChart(st);
    st.chart = new uPlot(chartOpts(st, labels), data, st.body);
    st.key = key;
    exposed.charts[st.panel.id] = st.chart;
  }

  function redrawAll() {
    Object.keys(state.panels).forEach(function (id) {
      var st = state.panels[id];
      if (!st.chart || !st.data) return;
      dropChart(st);
      drawChart(st, st.data.labels, st.data.data);
    });
  }

  function historyDown(err) {
    if (err.status === 502 || err.status === 503) return 'History unavailable: ' + err.message + '. Current readings are still live.';
    if (err.status === 0) return 'History unavailable: ' + err.message + '.';
    return '';
  }

  function loadPanels() {
    var down = '';
    return Promise.all(Object.keys(state.panels).map(function (id) {
      var st = state.panels[id];
      var load = st.panel.kind === 'stat' ? loadStat : loadTimeseries;
      return load(st).catch(function (err) {
        dropChart(st);
        if (st.panel.kind === 'stat') { st.body.replaceChildren(); delete exposed.stats[id]; }
        setMessage(st, 'No history: ' + err.message, true);
        down = down || historyDown(err);
      });
    })).then(function () { return down; });
  }

  // ---- refresh loop ----
  function refresh() {
    if (state.busy) { state.again = true; return; }
    state.busy = exposed.busy = true;
    clearTimeout(state.timer);
    var notes = [];
    var sensors = request('sensor').then(renderSensors, function (err) {
      notes.push({ error: true, text: 'Current readings unavailable: ' + err.message + '. Retrying every ' + state.refreshMs / 1000 + ' s.' });
    });
    var hist = request('api/dashboard').then(function (doc) {
      state.doc = doc;
      state.refreshMs = Math.max(doc.refresh_seconds || 15, 5) * 1000;
      $('version').textContent = 'edge-sensord ' + doc.version;
      renderRanges(doc.ranges, doc.default_range);
      (doc.warnings || []).forEach(function (w) { notes.push({ text: w }); });
      exposed.history = !!doc.history;
      $('sections').hidden = !doc.history;
      if (!doc.history) {
        $('alerts').hidden = true;
        notes.push({ error: true, text: 'History unavailable: this edge-sensord has no Prometheus to query (--prometheus.url is not set). Current readings are live.' });
        return;
      }
      buildSections(doc);
      // After the panels: the alerts take one of this client's query slots too.
      return loadPanels().then(function (down) {
        return request('api/alerts').then(renderAlerts, function (err) { renderAlerts(null, err); }).then(function () { return down; });
      }).then(function (down) {
        exposed.history = !down;
        if (down) notes.push({ error: true, text: down });
      });
    }, function (err) {
      exposed.history = false;
      notes.push({ error: true, text: 'History unavailable: the dashboard description could not be loaded (' + err.message + ').' });
    });
    Promise.all([sensors, hist]).then(function () {
      banners(notes);
      // Time from navigation to the first complete page, for the benchmark.
      if (!exposed.refreshes) exposed.firstRenderMs = performance.now();
      exposed.refreshes++;
      $('updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
    }).finally(function () {
      state.busy = exposed.busy = false;
      if (state.again) { state.again = false; refresh(); return; }
      schedule();
    });
  }

  function schedule() {
    clearTimeout(state.timer);
    if (!document.hidden) state.timer = setTimeout(refresh, state.refreshMs);
  }

  // renderRanges offers ranges; until the person picks one, the page shows
  // the daemon's suggestion (the smallest that holds the stored history).
  function renderRanges(ranges, suggested) {
    ranges = (ranges || Object.keys(RANGES)).filter(function (r) { return RANGES[r]; });
    if (!state.rangeChosen && ranges.indexOf(suggested) >= 0) state.range = suggested;
    if (ranges.indexOf(state.range) < 0) state.range = ranges.indexOf('1h') >= 0 ? '1h' : ranges[0];
    var box = $('ranges');
    if (box.dataset.key !== ranges.join()) {
      box.dataset.key = ranges.join();
      box.replaceChildren();
      ranges.forEach(function (r) {
        var b = el('button', null, r.replace(/(\d+)/, '$1 '));
        b.type = 'button';
        b.dataset.range = r;
        b.addEventListener('click', function () {
          state.range = r;
          state.rangeChosen = true;
          history.replaceState(null, '', '#range=' + r);
          renderRanges(ranges, r);
          refresh();
        });
        box.appendChild(b);
      });
    }
    box.querySelectorAll('button').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.dataset.range === state.range));
    });
  }

  function start() {
    var m = /range=(\w+)/.exec(location.hash);
    if (m && RANGES[m[1]]) { state.range = m[1]; state.rangeChosen = true; }
    $('host').textContent = location.hostname;
    document.title = 'edge-sensord · ' + location.hostname;
    document.addEventListener('visibilitychange', function () {
      if (document.hidden) clearTimeout(state.timer); else refresh();
    });
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', redrawAll);
    var resizing = 0;
    window.addEventListener('resize', function () {
      clearTimeout(resizing);
      resizing = setTimeout(function () {
        keyboardScroll($('readings'));
        Object.keys(state.panels).forEach(function (id) {
          var st = state.panels[id];
          if (st.chart) st.chart.setSize({ width: Math.max(st.body.clientWidth, 100), height: st.chart.height });
        });
      }, 150);
    });
    refresh();
  }
  start();
})();
