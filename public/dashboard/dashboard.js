/* global document, window, location, fetch, sessionStorage, setTimeout, clearTimeout, setInterval, clearInterval, URLSearchParams */
/*
 * Care Companion monitoring dashboard: vanilla JS, no build step. Signs in with a pasted bearer token
 * (sessionStorage), reads the GraphQL API, and listens to `driftDetected` and `siteValidationChanged` over graphql-ws
 * (the library's browser build is served at /dashboard/vendor/graphql-ws.js). Charts are inline SVG.
 * All server text is inserted with textContent, never as HTML.
 */
(function () {
  'use strict';

  var TOKEN_KEY = 'careCompanion.token';
  // Polling period of the non-live figures; `?refresh=0` turns polling off (alerts still arrive live).
  var refreshParam = new URLSearchParams(location.search).get('refresh');
  var REFRESH_MS = refreshParam === null ? 10000 : Number(refreshParam) * 1000;
  var SIGNAL_TITLES = {
    embedding: 'Embedding (image content)',
    confidence: 'Confidence',
    intensity_mean: 'Mean intensity',
    image_size: 'Image size',
    predicted_class: 'Predicted class mix',
    intensity_histogram: 'Intensity histogram',
    bit_depth: 'Bit depth',
    format: 'File format',
  };
  var SIGNAL_ORDER = Object.keys(SIGNAL_TITLES);

  var state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    permissions: [],
    overview: null,
    alerts: [],
    models: {},
    timer: null,
    ws: null,
    fresh: {},
    sites: [],
    siteValidation: null,
  };

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'className') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) {
      if (c) node.appendChild(c);
    });
    return node;
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG_NS, tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function toast(message) {
    var t = $('toast');
    t.textContent = message;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () {
      t.hidden = true;
    }, 4000);
  }

  function GraphQLFailure(code, message) {
    this.code = code;
    this.message = message;
  }

  function gql(query, variables) {
    return fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + state.token },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    })
      .then(function (res) {
        return res.json();
      })
      .then(function (body) {
        if (body.errors && body.errors.length) {
          var e = body.errors[0];
          throw new GraphQLFailure((e.extensions && e.extensions.code) || 'ERROR', e.message);
        }
        return body.data;
      });
  }

  function fmtTime(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function fmtNum(v, digits) {
    if (v === null || v === undefined) return '–';
    if (v !== 0 && Math.abs(v) < 0.001) return v.toExponential(1);
    return Number(v).toFixed(digits === undefined ? 3 : digits);
  }

  // ---------- sign-in ----------

  function showSignIn(message) {
    $('sign-in-panel').hidden = false;
    $('dashboard').hidden = true;
    $('session').hidden = true;
    $('sign-in-error').textContent = message || '';
  }

  function signIn(token) {
    state.token = token;
    return gql('{ me { displayName role permissions } }')
      .then(function (data) {
        // The dashboard shows monitoring figures: roles without them get a message, not a blank page.
        if (data.me.permissions.indexOf('READ_MONITORING') < 0) {
          throw new GraphQLFailure(
            'FORBIDDEN',
            'Your role (' +
              data.me.role.toLowerCase() +
              ') cannot read monitoring figures. This dashboard is for technicians, radiologists and admins; ' +
              'integrators read results through the API.',
          );
        }
        state.permissions = data.me.permissions;
        sessionStorage.setItem(TOKEN_KEY, token);
        $('who').textContent = data.me.displayName + ' (' + data.me.role.toLowerCase() + ')';
        $('sign-in-panel').hidden = true;
        $('dashboard').hidden = false;
        $('session').hidden = false;
        $('site-validation').hidden = !may('READ_SITE_VALIDATION');
        $('site-actions').hidden = !may('MANAGE_MODELS');
        connectLive();
        return refresh().then(function () {
          if (REFRESH_MS > 0) state.timer = setInterval(refresh, REFRESH_MS);
        });
      })
      .catch(function (error) {
        sessionStorage.removeItem(TOKEN_KEY);
        state.token = null;
        state.permissions = [];
        showSignIn(
          error.code === 'UNAUTHENTICATED'
            ? 'That token is not valid (expired, revoked or mistyped).'
            : error.message || 'Sign-in failed.',
        );
      });
  }

  /** True when the signed-in role holds `permission` (from `me.permissions`). */
  function may(permission) {
    return (state.permissions || []).indexOf(permission) >= 0;
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    clearInterval(state.timer);
    if (state.ws) state.ws.dispose();
    state.ws = null;
    showSignIn('Signed out.');
  }

  // ---------- live alerts ----------

  var ALERT_FIELDS =
    'id modelVersionId signal statistic value pValue threshold windowStart windowEnd windowSize windowKind status createdAt';

  function connectLive() {
    if (!window.graphqlWs) {
      setLive('closed', 'live updates unavailable');
      return;
    }
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
    state.ws = window.graphqlWs.createClient({
      url: url,
      connectionParams: { authorization: 'Bearer ' + state.token },
      lazy: false,
      retryAttempts: 1000,
      on: {
        connected: function () {
          setLive('live', 'live');
        },
        closed: function () {
          setLive('closed', 'reconnecting');
        },
      },
    });
    state.ws.subscribe(
      { query: 'subscription { driftDetected { ' + ALERT_FIELDS + ' } }' },
      {
        next: function (msg) {
          if (msg.data && msg.data.driftDetected) onAlert(msg.data.driftDetected);
        },
        error: function () {
          setLive('closed', 'live updates refused');
        },
        complete: function () {},
      },
    );
    if (may('READ_SITE_VALIDATION')) {
      state.ws.subscribe(
        {
          query:
            'subscription { siteValidationChanged { change evaluationId validation { site { id name } } } }',
        },
        {
          next: function (msg) {
            var e = msg.data && msg.data.siteValidationChanged;
            if (!e) return;
            if (e.validation.site.id === $('site-select').value) {
              toast(e.validation.site.name + ': ' + e.change.toLowerCase().replace(/_/g, ' '));
              loadSiteValidation().catch(function () {});
            }
          },
          error: function () {},
          complete: function () {},
        },
      );
    }
  }

  function setLive(stateName, text) {
    var s = $('live-status');
    s.dataset.state = stateName;
    s.textContent = text;
  }

  function onAlert(alert) {
    state.fresh[alert.id] = true;
    state.alerts = [alert].concat(
      state.alerts.filter(function (a) {
        return a.id !== alert.id;
      }),
    );
    renderAlerts();
    var m = state.models[alert.modelVersionId];
    toast('Drift detected: ' + (SIGNAL_TITLES[alert.signal] || alert.signal) + (m ? ' on ' + m : ''));
    refresh();
  }

  // ---------- data ----------

  function refresh() {
    return Promise.all([loadOverview(), loadAlerts(), loadQuality()])
      .then(function () {
        return Promise.all([loadDrift(), loadSites()]);
      })
      .catch(function (error) {
        if (error.code === 'UNAUTHENTICATED') signOut();
        else toast('Could not refresh: ' + (error.message || error.code));
      });
  }

  function loadOverview() {
    return gql(
      '{ monitoringOverview(minutes: 60, recent: 15) {' +
        ' modelVersions { id task version stage trafficShare hasReferenceProfile }' +
        ' throughput { start predictions refused p50Ms p95Ms } bucketMinutes' +
        ' recentPredictions { id createdAt model route gateVerdict label totalMs }' +
        ' drift { enabled windowSize timeWindowMinutes minWindowSize alpha psiThreshold permutations }' +
        ' corrections } }',
    ).then(function (data) {
      state.overview = data.monitoringOverview;
      state.overview.modelVersions.forEach(function (m) {
        state.models[m.id] = m.task.toLowerCase() + '/' + m.version;
      });
      renderModels();
      renderThroughput();
      renderRecent();
    });
  }

  function loadAlerts() {
    return gql('{ driftAlerts(first: 50) { edges { node { ' + ALERT_FIELDS + ' } } } }').then(
      function (data) {
        state.alerts = data.driftAlerts.edges.map(function (e) {
          return e.node;
        });
        renderAlerts();
      },
    );
  }

  function loadDrift() {
    var select = $('drift-model');
    var id = select.value;
    if (!id) return Promise.resolve();
    return gql(
      'query($id: ID, $kind: DriftWindowKind) { driftChecks(modelVersionId: $id, windowKind: $kind, limit: 200) {' +
        ' windowEnd windowSize drifted signals { signal statistic value pValue threshold drifted } } }',
      { id: id, kind: $('drift-kind').value },
    ).then(function (data) {
      renderDrift(data.driftChecks);
    });
  }

  function loadQuality() {
    var to = new Date();
    var from = new Date(to.getTime() - 7 * 86400000);
    return gql(
      'query($i: CorrectionQualityInput!) { correctionQuality(input: $i) {' +
        ' modelVersion task windowStart windowEnd n refused recall specificity agreement } }',
      { i: { from: from.toISOString(), to: to.toISOString(), bucketSeconds: 86400 } },
    ).then(
      function (data) {
        renderQuality(data.correctionQuality);
      },
      function (error) {
        renderQuality(null, error.message || error.code);
      },
    );
  }

  // ---------- rendering ----------

  function renderAlerts() {
    var open = state.alerts.filter(function (a) {
      return a.status !== 'RESOLVED';
    });
    var list = $('alerts');
    list.textContent = '';
    open.forEach(function (a) {
      var li = el('li', { className: 'alert-item', 'data-signal': a.signal, 'data-status': a.status });
      if (state.fresh[a.id]) li.classList.add('fresh');
      li.appendChild(
        el('div', {
          className: 'title',
          text:
            (SIGNAL_TITLES[a.signal] || a.signal) +
            ' drifted · ' +
            (state.models[a.modelVersionId] || 'model'),
        }),
      );
      li.appendChild(
        el('div', {
          className: 'meta',
          text:
            a.statistic +
            ' = ' +
            fmtNum(a.value) +
            (a.pValue !== null ? ', p = ' + fmtNum(a.pValue) : '') +
            ' (threshold ' +
            fmtNum(a.threshold) +
            ') · ' +
            a.windowKind.toLowerCase() +
            ' window of ' +
            a.windowSize +
            ', ' +
            fmtTime(a.windowStart) +
            '–' +
            fmtTime(a.windowEnd) +
            ' · ' +
            a.status.toLowerCase(),
        }),
      );
      // Triage buttons only for roles that may triage (technicians, admins).
      if (may('TRIAGE_DRIFT_ALERTS')) {
        var actions = el('div', { className: 'actions' });
        if (a.status === 'OPEN') actions.appendChild(triageButton(a, 'acknowledgeDriftAlert', 'Acknowledge'));
        actions.appendChild(triageButton(a, 'resolveDriftAlert', 'Resolve'));
        li.appendChild(actions);
      }
      list.appendChild(li);
    });
    $('alerts-empty').hidden = open.length > 0;
    var count = $('alert-count');
    count.textContent = String(open.length);
    count.classList.toggle('hot', open.length > 0);
  }

  function triageButton(alert, mutation, label) {
    var b = el('button', { type: 'button', className: 'secondary', text: label });
    b.addEventListener('click', function () {
      gql('mutation($id: ID!) { ' + mutation + '(id: $id) { ' + ALERT_FIELDS + ' } }', { id: alert.id }).then(
        function (data) {
          var updated = data[mutation];
          state.alerts = state.alerts.map(function (a) {
            return a.id === updated.id ? updated : a;
          });
          delete state.fresh[updated.id];
          renderAlerts();
        },
        function (error) {
          toast(error.code === 'FORBIDDEN' ? 'Your role cannot triage alerts.' : error.message);
        },
      );
    });
    return b;
  }

  function renderModels() {
    var o = state.overview;
    var list = $('models');
    list.textContent = '';
    o.modelVersions.forEach(function (m) {
      var right = el('span', {}, [el('span', { className: 'badge ' + m.stage, text: m.stage })]);
      if (m.stage === 'CANARY')
        right.appendChild(
          el('span', { className: 'muted small', text: ' ' + Math.round(m.trafficShare * 100) + '%' }),
        );
      list.appendChild(
        el('li', {}, [
          el('span', {}, [
            el('strong', { text: m.task.toLowerCase() + ' / ' + m.version }),
            el('span', {
              className: 'muted small',
              text: m.hasReferenceProfile ? '  drift checked' : '  no reference profile: drift not checked',
            }),
          ]),
          right,
        ]),
      );
    });
    var d = o.drift;
    $('drift-settings').textContent = d.enabled
      ? 'Drift: windows of ' +
        d.windowSize +
        ' accepted predictions' +
        (d.timeWindowMinutes > 0
          ? ' and every ' + d.timeWindowMinutes + ' min (≥ ' + d.minWindowSize + ')'
          : '') +
        '; family-wise α = ' +
        d.alpha +
        ' (Bonferroni over the p-value tests), PSI > ' +
        d.psiThreshold +
        ', ' +
        d.permutations +
        ' MMD permutations.'
      : 'Drift detection is off (DRIFT_ENABLED=false).';
    var select = $('drift-model');
    var current = select.value;
    var withProfile = o.modelVersions.filter(function (m) {
      return m.hasReferenceProfile && m.stage !== 'ARCHIVED';
    });
    var ids = withProfile.map(function (m) {
      return m.id;
    });
    if (select.options.length !== ids.length) {
      select.textContent = '';
      withProfile.forEach(function (m) {
        select.appendChild(el('option', { value: m.id, text: m.task.toLowerCase() + ' / ' + m.version }));
      });
      if (ids.indexOf(current) >= 0) select.value = current;
    }
  }

  /** A small line/scatter chart with a threshold line. */
  function chart(opts) {
    var W = opts.width || 260;
    var H = opts.height || 120;
    var P = { l: 34, r: 8, t: 8, b: 18 };
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img' });
    root.appendChild(svg('title', {}, opts.title || ''));
    var xs = opts.points.map(function (p) {
      return p.x;
    });
    var ys = opts.points.map(function (p) {
      return p.y;
    });
    if (opts.threshold !== undefined && opts.threshold !== null) ys.push(opts.threshold);
    var xMin = opts.xMin !== undefined ? opts.xMin : Math.min.apply(null, xs);
    var xMax = opts.xMax !== undefined ? opts.xMax : Math.max.apply(null, xs);
    var yMin = opts.yMin !== undefined ? opts.yMin : Math.min.apply(null, ys.concat([0]));
    var yMax = opts.yMax !== undefined ? opts.yMax : Math.max.apply(null, ys) * 1.1 || 1;
    var sx = function (x) {
      return xMax === xMin ? (P.l + W - P.r) / 2 : P.l + ((x - xMin) / (xMax - xMin)) * (W - P.l - P.r);
    };
    var sy = function (y) {
      return H - P.b - ((y - yMin) / (yMax - yMin || 1)) * (H - P.t - P.b);
    };
    root.appendChild(svg('line', { x1: P.l, y1: H - P.b, x2: W - P.r, y2: H - P.b, stroke: '#dde3e9' }));
    root.appendChild(svg('line', { x1: P.l, y1: P.t, x2: P.l, y2: H - P.b, stroke: '#dde3e9' }));
    root.appendChild(svg('text', { x: P.l - 4, y: sy(yMax) + 8, 'text-anchor': 'end' }, fmtNum(yMax, 1)));
    root.appendChild(svg('text', { x: P.l - 4, y: H - P.b, 'text-anchor': 'end' }, fmtNum(yMin, 1)));
    if (opts.xLabels) {
      root.appendChild(svg('text', { x: P.l, y: H - 4 }, opts.xLabels[0]));
      root.appendChild(svg('text', { x: W - P.r, y: H - 4, 'text-anchor': 'end' }, opts.xLabels[1]));
    }
    if (opts.threshold !== undefined && opts.threshold !== null) {
      root.appendChild(
        svg('line', {
          x1: P.l,
          x2: W - P.r,
          y1: sy(opts.threshold),
          y2: sy(opts.threshold),
          stroke: '#c81e1e',
          'stroke-dasharray': '4 3',
        }),
      );
    }
    (opts.series || [{ points: opts.points, color: '#2563eb' }]).forEach(function (series) {
      if (series.points.length > 1) {
        root.appendChild(
          svg('polyline', {
            fill: 'none',
            stroke: series.color,
            'stroke-width': 1.5,
            points: series.points
              .map(function (p) {
                return sx(p.x).toFixed(1) + ',' + sy(p.y).toFixed(1);
              })
              .join(' '),
          }),
        );
      }
      series.points.forEach(function (p) {
        root.appendChild(
          svg('circle', {
            cx: sx(p.x),
            cy: sy(p.y),
            r: p.bad ? 3.5 : 2.5,
            fill: p.bad ? '#c81e1e' : series.color,
            class: p.bad ? 'point drifted' : 'point',
          }),
        );
      });
    });
    return root;
  }

  function renderDrift(checks) {
    var box = $('drift-charts');
    box.textContent = '';
    $('drift-empty').hidden = checks.length > 0;
    if (!checks.length) return;
    var first = fmtTime(checks[0].windowEnd);
    var last = fmtTime(checks[checks.length - 1].windowEnd);
    SIGNAL_ORDER.forEach(function (signal) {
      var pts = [];
      var threshold = null;
      var statistic = '';
      var usesP = false;
      checks.forEach(function (c, i) {
        var s = c.signals.find(function (x) {
          return x.signal === signal;
        });
        if (!s) return;
        statistic = s.statistic;
        usesP = s.pValue !== null;
        var y = usesP ? -Math.log10(Math.max(s.pValue, 1e-12)) : s.value;
        threshold = usesP ? -Math.log10(s.threshold) : s.threshold;
        pts.push({ x: i, y: y, bad: s.drifted });
      });
      if (!pts.length) return;
      var lastPoint = pts[pts.length - 1];
      var panel = el('div', { className: 'panel', 'data-signal': signal }, [
        el('h3', { text: SIGNAL_TITLES[signal] || signal }),
        el('div', {
          className: 'sub',
          text:
            (usesP ? statistic + ' · −log₁₀ p' : 'PSI') +
            ' · last ' +
            fmtNum(lastPoint.y, 2) +
            (lastPoint.bad ? ' (drift)' : ''),
        }),
      ]);
      panel.appendChild(
        chart({
          points: pts,
          threshold: threshold,
          title: signal,
          xLabels: [first, last],
          yMin: 0,
        }),
      );
      box.appendChild(panel);
    });
  }

  function renderThroughput() {
    var o = state.overview;
    var box = $('throughput-chart');
    box.textContent = '';
    var lat = $('latency-chart');
    lat.textContent = '';
    var buckets = o.throughput;
    if (!buckets.length) {
      box.appendChild(el('p', { className: 'muted', text: 'No predictions in the last 60 minutes.' }));
      return;
    }
    var W = 520;
    var H = 130;
    var P = { l: 34, r: 8, t: 8, b: 18 };
    var max = Math.max.apply(
      null,
      buckets.map(function (b) {
        return b.predictions;
      }),
    );
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img' });
    root.appendChild(svg('title', {}, 'Predictions per ' + o.bucketMinutes + ' min'));
    // The whole period on the x axis, one slot per bucket, the newest at the right.
    var span = o.bucketMinutes * 60000;
    var n = Math.ceil(60 / o.bucketMinutes);
    var t0 = Math.floor(Date.now() / span) * span - (n - 1) * span;
    var bw = (W - P.l - P.r) / n;
    buckets.forEach(function (b) {
      var i = Math.round((new Date(b.start).getTime() - t0) / span);
      var hAll = ((H - P.t - P.b) * b.predictions) / max;
      var hRef = ((H - P.t - P.b) * b.refused) / max;
      var x = P.l + i * bw + 1;
      root.appendChild(
        svg('rect', {
          x: x,
          y: H - P.b - hAll,
          width: Math.max(bw - 2, 1),
          height: hAll - hRef,
          fill: '#2563eb',
        }),
      );
      if (hRef > 0)
        root.appendChild(
          svg('rect', { x: x, y: H - P.b - hRef, width: Math.max(bw - 2, 1), height: hRef, fill: '#c81e1e' }),
        );
    });
    root.appendChild(svg('text', { x: P.l - 4, y: P.t + 8, 'text-anchor': 'end' }, String(max)));
    root.appendChild(svg('text', { x: P.l, y: H - 4 }, fmtTime(new Date(t0).toISOString())));
    root.appendChild(svg('text', { x: W - P.r, y: H - 4, 'text-anchor': 'end' }, 'now'));
    box.appendChild(
      el('div', { className: 'legend' }, [
        el('span', { text: 'Predictions per ' + o.bucketMinutes + ' min:' }),
        legend('#2563eb', 'accepted'),
        legend('#c81e1e', 'refused by the gate'),
      ]),
    );
    box.appendChild(root);
    var p50 = [];
    var p95 = [];
    buckets.forEach(function (b) {
      var i = Math.round((new Date(b.start).getTime() - t0) / span);
      if (b.p50Ms !== null) p50.push({ x: i, y: b.p50Ms });
      if (b.p95Ms !== null) p95.push({ x: i, y: b.p95Ms });
    });
    lat.appendChild(
      el('div', { className: 'legend' }, [
        el('span', { text: 'End-to-end analysis time (ms):' }),
        legend('#15803d', 'median'),
        legend('#b45309', '95th percentile'),
      ]),
    );
    lat.appendChild(
      chart({
        width: 520,
        height: 110,
        points: p50.concat(p95),
        series: [
          { points: p50, color: '#15803d' },
          { points: p95, color: '#b45309' },
        ],
        yMin: 0,
        xMin: 0,
        xMax: n - 1,
        title: 'latency',
        xLabels: [fmtTime(new Date(t0).toISOString()), 'now'],
      }),
    );
  }

  function legend(color, text) {
    var i = el('i');
    i.style.background = color;
    return el('span', {}, [i, document.createTextNode(text)]);
  }

  function renderQuality(rows, error) {
    var box = $('quality-chart');
    box.textContent = '';
    var note = $('quality-note');
    if (!rows) {
      note.textContent = 'Quality figures are not available: ' + error;
      return;
    }
    var measured = rows.filter(function (r) {
      return r.n > 0;
    });
    if (!measured.length) {
      note.textContent =
        'No radiologist corrections in this period, so recall and specificity by window cannot be measured. ' +
        'Nothing is estimated in their place.';
      return;
    }
    note.textContent =
      'Against radiologist corrections, per day and model version (n = corrections in the window). ' +
      'Windows without positives or negatives have no recall or specificity.';
    var byModel = {};
    measured.forEach(function (r) {
      var key = r.task.toLowerCase() + ' / ' + (r.modelVersion || 'all versions');
      (byModel[key] = byModel[key] || []).push(r);
    });
    Object.keys(byModel).forEach(function (key) {
      var list = byModel[key];
      var recall = [];
      var specificity = [];
      list.forEach(function (r, i) {
        if (r.recall !== null) recall.push({ x: i, y: r.recall });
        if (r.specificity !== null) specificity.push({ x: i, y: r.specificity });
      });
      box.appendChild(
        el('div', { className: 'legend' }, [
          el('strong', { text: key }),
          legend('#2563eb', 'recall'),
          legend('#15803d', 'specificity'),
          el('span', {
            text:
              'n = ' +
              list
                .map(function (r) {
                  return r.n;
                })
                .join(', '),
          }),
        ]),
      );
      box.appendChild(
        chart({
          width: 520,
          height: 110,
          points: recall.concat(specificity).concat([{ x: 0, y: 0 }]),
          series: [
            { points: recall, color: '#2563eb' },
            { points: specificity, color: '#15803d' },
          ],
          yMin: 0,
          yMax: 1,
          title: 'quality ' + key,
          xLabels: [list[0].windowStart.slice(0, 10), list[list.length - 1].windowStart.slice(0, 10)],
        }),
      );
    });
  }

  // ---------- site validation ----------

  var SITE_VALIDATION_FIELDS =
    'validated validationSet { n patients counts { label n } sources { source n } }' +
    ' operatingPoint { id evaluationId temperature approvedAt thresholds { label value source } }' +
    ' rolloutGate { status fallbackId reason findings { label approvedRecall candidateRecall passed } }' +
    ' latestEvaluation { id status trigger targetRecall n patients error finishedAt ece' +
    ' gateRefused { n rate } temperature { shipped used }' +
    ' reliability { confidence accuracy n }' +
    ' findings { label auroc { value lower upper }' +
    ' shipped { threshold recall { value lower upper } specificity { value lower upper } }' +
    ' site { threshold source recall { value lower upper } specificity { value lower upper } }' +
    ' roc { fpr tpr } }' +
    ' proposedOperatingPoint { thresholds { label source nPositives positivesNeeded guarantee } } }';

  function loadSites() {
    if (!may('READ_SITE_VALIDATION')) return Promise.resolve();
    return gql('{ sites { id name code isDefault } }').then(function (data) {
      state.sites = data.sites;
      var select = $('site-select');
      var current = select.value;
      if (select.options.length !== data.sites.length) {
        select.textContent = '';
        data.sites.forEach(function (site) {
          select.appendChild(el('option', { value: site.id, text: site.name }));
        });
        // the first site that is not the default one: the one a department validates
        var other = data.sites.find(function (site) {
          return !site.isDefault;
        });
        select.value = current || (other || data.sites[0]).id;
      }
      var models = $('site-model');
      var chosen = models.value;
      var versions = state.overview.modelVersions;
      if (models.options.length !== versions.length) {
        models.textContent = '';
        versions.forEach(function (m) {
          models.appendChild(
            el('option', {
              value: m.id,
              text: m.task.toLowerCase() + ' / ' + m.version + ' (' + m.stage.toLowerCase() + ')',
            }),
          );
        });
        var production = versions.find(function (m) {
          return m.stage === 'PRODUCTION' && m.task === 'CHEST';
        });
        models.value = chosen || (production || versions[0]).id;
      }
      return loadSiteValidation();
    });
  }

  function loadSiteValidation() {
    var siteId = $('site-select').value;
    var modelVersionId = $('site-model').value;
    if (!siteId || !modelVersionId) return Promise.resolve();
    return gql(
      'query($s: ID!, $v: ID!) { siteValidation(siteId: $s, modelVersionId: $v) { ' +
        SITE_VALIDATION_FIELDS +
        ' } }',
      { s: siteId, v: modelVersionId },
    ).then(function (data) {
      state.siteValidation = data.siteValidation;
      renderSiteValidation();
    });
  }

  function pct(v) {
    return v === null || v === undefined ? '–' : (v * 100).toFixed(1) + '%';
  }

  function withInterval(e) {
    if (!e || e.value === null) return '–';
    return pct(e.value) + (e.lower !== null ? ' [' + pct(e.lower) + ', ' + pct(e.upper) + ']' : '');
  }

  function renderSiteValidation() {
    var v = state.siteValidation;
    var status = $('site-status');
    status.textContent = '';
    var e = v.latestEvaluation;
    var set = v.validationSet;
    status.appendChild(
      el('p', {}, [
        el('span', {
          className: 'badge ' + (v.validated ? 'VALIDATED' : 'NOT_VALIDATED'),
          id: 'site-validated',
          text: v.validated ? 'VALIDATED' : 'NOT VALIDATED',
        }),
        document.createTextNode(
          v.validated
            ? ' An approved site operating point is in force: predictions here use it and say siteValidated.'
            : " Predictions here use the model's shipped operating point and say siteValidated: false.",
        ),
      ]),
    );
    status.appendChild(
      el('p', {
        text:
          'Validation set: ' +
          set.n +
          ' labelled studies of ' +
          set.patients +
          ' patients (' +
          set.counts
            .map(function (c) {
              return c.label + ' ' + c.n;
            })
            .join(', ') +
          (set.sources.length
            ? '; ' +
              set.sources
                .map(function (c) {
                  return c.source.toLowerCase().replace('_', ' ') + ' ' + c.n;
                })
                .join(', ')
            : '') +
          ')',
      }),
    );
    if (e) {
      status.appendChild(
        el('p', { id: 'site-evaluation' }, [
          el('span', { className: 'badge ' + e.status, text: e.status }),
          document.createTextNode(
            ' Latest evaluation (' +
              e.trigger.toLowerCase() +
              (e.targetRecall ? ', target recall ' + pct(e.targetRecall) : '') +
              ')' +
              (e.status === 'SUCCEEDED'
                ? ': ' +
                  e.n +
                  ' studies, ' +
                  e.patients +
                  ' patients; the gate refused ' +
                  e.gateRefused.n +
                  ' (' +
                  pct(e.gateRefused.rate) +
                  '); ECE ' +
                  fmtNum(e.ece) +
                  ' at temperature ' +
                  fmtNum(e.temperature.used, 2) +
                  ' (shipped ' +
                  fmtNum(e.temperature.shipped, 2) +
                  ')'
                : e.error
                  ? ': ' + e.error
                  : ''),
          ),
        ]),
      );
    } else status.appendChild(el('p', { className: 'muted', text: 'Not evaluated at this site yet.' }));
    if (v.rolloutGate) {
      var g = v.rolloutGate;
      status.appendChild(
        el('p', {}, [
          el('span', { className: 'badge ' + g.status, text: 'ROLLOUT GATE ' + g.status }),
          document.createTextNode(
            g.status === 'PASSED'
              ? ' This version serves the site' +
                  (g.reason ? ' (' + g.reason.toLowerCase().replace(/_/g, ' ') + ')' : '') +
                  '.'
              : ' The site keeps its previous version' +
                  (g.findings.length
                    ? ': ' +
                      g.findings
                        .map(function (f) {
                          return (
                            f.label +
                            ' recall ' +
                            pct(f.candidateRecall) +
                            ' vs approved ' +
                            pct(f.approvedRecall)
                          );
                        })
                        .join(', ')
                    : '') +
                  '.',
          ),
        ]),
      );
    }
    renderSiteFindings(e && e.status === 'SUCCEEDED' ? e : null);
    renderReliability(e && e.status === 'SUCCEEDED' ? e.reliability : []);
    renderRoc(e && e.status === 'SUCCEEDED' ? e.findings : []);
    var approve = $('site-approve');
    approve.hidden = !(
      may('MANAGE_MODELS') &&
      e &&
      e.status === 'SUCCEEDED' &&
      (!v.operatingPoint || v.operatingPoint.evaluationId !== e.id)
    );
  }

  function renderSiteFindings(e) {
    var box = $('site-findings');
    box.textContent = '';
    if (!e) return;
    var proposed = {};
    (e.proposedOperatingPoint ? e.proposedOperatingPoint.thresholds : []).forEach(function (t) {
      proposed[t.label] = t;
    });
    var head = el('tr', {}, [
      el('th', { text: 'Finding' }),
      el('th', { text: 'AUROC' }),
      el('th', { text: 'Shipped point' }),
      el('th', { text: 'Site point' }),
    ]);
    var body = el('tbody');
    e.findings.forEach(function (f) {
      var t = proposed[f.label] || {};
      body.appendChild(
        el('tr', { 'data-finding': f.label }, [
          el('td', { text: f.label }),
          el('td', {
            text:
              f.auroc.value === null
                ? '–'
                : fmtNum(f.auroc.value) + ' [' + fmtNum(f.auroc.lower) + ', ' + fmtNum(f.auroc.upper) + ']',
          }),
          el('td', {
            text:
              '≥ ' +
              fmtNum(f.shipped.threshold) +
              ' · recall ' +
              withInterval(f.shipped.recall) +
              ' · specificity ' +
              withInterval(f.shipped.specificity),
          }),
          el('td', {
            text:
              '≥ ' +
              fmtNum(f.site.threshold) +
              (f.site.source === 'SITE'
                ? ' (' + t.nPositives + ' site positives)'
                : ' (shipped kept: ' + (t.positivesNeeded || 0) + ' more positives needed)') +
              ' · recall ' +
              withInterval(f.site.recall) +
              ' · specificity ' +
              withInterval(f.site.specificity),
          }),
        ]),
      );
    });
    box.appendChild(el('table', { className: 'site-findings' }, [el('thead', {}, [head]), body]));
  }

  /** A unit-square plot (both axes 0..1) with the diagonal dashed. */
  function unitPlot(title, xLabel, yLabel) {
    var S = 200;
    var P = 28;
    var root = svg('svg', { viewBox: '0 0 ' + (S + P + 8) + ' ' + (S + P + 8), width: '100%', role: 'img' });
    root.appendChild(svg('title', {}, title));
    var sx = function (x) {
      return P + x * S;
    };
    var sy = function (y) {
      return 8 + (1 - y) * S;
    };
    root.appendChild(svg('rect', { x: P, y: 8, width: S, height: S, fill: 'none', stroke: '#dde3e9' }));
    root.appendChild(
      svg('line', {
        x1: sx(0),
        y1: sy(0),
        x2: sx(1),
        y2: sy(1),
        stroke: '#9aa5b1',
        'stroke-dasharray': '4 3',
      }),
    );
    root.appendChild(svg('text', { x: P + S / 2, y: S + P + 4, 'text-anchor': 'middle' }, xLabel));
    root.appendChild(
      svg(
        'text',
        { x: 10, y: 8 + S / 2, 'text-anchor': 'middle', transform: 'rotate(-90 10 ' + (8 + S / 2) + ')' },
        yLabel,
      ),
    );
    root.appendChild(svg('text', { x: P - 3, y: 16, 'text-anchor': 'end' }, '1'));
    root.appendChild(svg('text', { x: P - 3, y: S + 8, 'text-anchor': 'end' }, '0'));
    return { root: root, sx: sx, sy: sy };
  }

  function renderReliability(bins) {
    var box = $('reliability-chart');
    box.textContent = '';
    if (!bins.length) return;
    var plot = unitPlot('Reliability', 'confidence (top class)', 'accuracy');
    var max = Math.max.apply(
      null,
      bins.map(function (b) {
        return b.n;
      }),
    );
    plot.root.appendChild(
      svg('polyline', {
        fill: 'none',
        stroke: '#2563eb',
        'stroke-width': 1.5,
        points: bins
          .map(function (b) {
            return plot.sx(b.confidence).toFixed(1) + ',' + plot.sy(b.accuracy).toFixed(1);
          })
          .join(' '),
      }),
    );
    bins.forEach(function (b) {
      plot.root.appendChild(
        svg('circle', {
          cx: plot.sx(b.confidence),
          cy: plot.sy(b.accuracy),
          r: 2 + 4 * Math.sqrt(b.n / max),
          fill: '#2563eb',
          class: 'reliability-bin',
        }),
      );
    });
    box.appendChild(el('h3', { className: 'small', text: 'Reliability (calibration) on the site' }));
    box.appendChild(plot.root);
  }

  var ROC_COLORS = ['#2563eb', '#b45309', '#15803d', '#7c3aed'];

  function renderRoc(findings) {
    var box = $('roc-chart');
    box.textContent = '';
    var drawn = findings.filter(function (f) {
      return f.auroc.value !== null && f.roc.length > 1;
    });
    if (!drawn.length) return;
    var plot = unitPlot('ROC', 'false-positive rate', 'recall');
    var legendBox = el('div', { className: 'legend' });
    drawn.forEach(function (f, i) {
      var color = ROC_COLORS[i % ROC_COLORS.length];
      var pts = [{ fpr: 0, tpr: 0 }].concat(f.roc).concat([{ fpr: 1, tpr: 1 }]);
      plot.root.appendChild(
        svg('polyline', {
          fill: 'none',
          stroke: color,
          'stroke-width': 1.5,
          class: 'roc-curve',
          'data-finding': f.label,
          points: pts
            .map(function (p) {
              return plot.sx(p.fpr).toFixed(1) + ',' + plot.sy(p.tpr).toFixed(1);
            })
            .join(' '),
        }),
      );
      [
        ['shipped', f.shipped, 'none'],
        ['site', f.site, color],
      ].forEach(function (m) {
        var point = m[1];
        if (point.recall.value === null || point.specificity.value === null) return;
        plot.root.appendChild(
          svg('circle', {
            cx: plot.sx(1 - point.specificity.value),
            cy: plot.sy(point.recall.value),
            r: 4,
            fill: m[2],
            stroke: color,
            'stroke-width': 1.5,
            class: 'roc-point ' + m[0],
          }),
        );
      });
      legendBox.appendChild(legend(color, f.label + ' (AUROC ' + fmtNum(f.auroc.value, 2) + ')'));
    });
    box.appendChild(
      el('h3', { className: 'small', text: 'ROC on the site (○ shipped point, ● site point)' }),
    );
    box.appendChild(legendBox);
    box.appendChild(plot.root);
  }

  function siteAction(query, variables, done) {
    return gql(query, variables).then(done, function (error) {
      toast(error.message || error.code);
    });
  }

  function renderRecent() {
    var body = $('recent');
    body.textContent = '';
    state.overview.recentPredictions.forEach(function (p) {
      body.appendChild(
        el('tr', {}, [
          el('td', { text: fmtTime(p.createdAt) }),
          el('td', { text: p.model || '–' }),
          el('td', { text: p.route.toLowerCase() }),
          el('td', {}, [el('span', { className: 'badge ' + p.gateVerdict, text: p.gateVerdict })]),
          el('td', { text: p.label || '–' }),
          el('td', { className: 'num', text: p.totalMs === null ? '–' : String(Math.round(p.totalMs)) }),
        ]),
      );
    });
  }

  // ---------- start ----------

  document.addEventListener('DOMContentLoaded', function () {
    $('sign-in-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var token = $('token-input')
        .value.trim()
        .replace(/^Bearer\s+/i, '');
      if (token) signIn(token);
    });
    $('sign-out').addEventListener('click', signOut);
    $('drift-model').addEventListener('change', loadDrift);
    $('site-select').addEventListener('change', loadSiteValidation);
    $('site-model').addEventListener('change', loadSiteValidation);
    $('site-evaluate').addEventListener('click', function () {
      var target = $('site-target').value;
      siteAction(
        'mutation($s: ID!, $v: ID!, $t: Float) { evaluateSite(siteId: $s, modelVersionId: $v, targetRecall: $t) { id status } }',
        { s: $('site-select').value, v: $('site-model').value, t: target ? Number(target) : null },
        function () {
          toast('Evaluation queued: the panel updates when it finishes.');
          loadSiteValidation();
        },
      );
    });
    $('site-approve').addEventListener('click', function () {
      var e = state.siteValidation && state.siteValidation.latestEvaluation;
      if (!e) return;
      siteAction(
        'mutation($e: ID!) { approveSiteOperatingPoint(evaluationId: $e) { id } }',
        { e: e.id },
        function () {
          toast('Site operating point approved.');
          loadSiteValidation();
        },
      );
    });
    $('drift-kind').addEventListener('change', loadDrift);
    if (state.token) signIn(state.token);
    else showSignIn('');
  });
})();
