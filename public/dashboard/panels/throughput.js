/* Throughput and latency of the last 60 minutes, from the monitoring overview. */
import { chart } from '../lib/charts.js';
import { $, el, legend, svg } from '../lib/dom.js';
import { fmtTime } from '../lib/format.js';

/** Draws predictions per bucket (accepted and refused) and the latency percentiles of the last hour. */
export function renderThroughput(o) {
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
