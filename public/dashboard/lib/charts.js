/* Inline SVG charts of the dashboard. */
import { svg } from './dom.js';
import { fmtNum } from './format.js';

/**
 * A small line/scatter chart with an optional dashed threshold line: `points` (or `series` of
 * `{ points, color }`) of `{ x, y, bad }`, bad points drawn red with the class `drifted`.
 */
export function chart(opts) {
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

/** A unit-square plot (both axes 0..1) with the diagonal dashed. */
export function unitPlot(title, xLabel, yLabel) {
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
