/* Quality from radiologist corrections (last 7 days): recall and specificity per day and model version. */
import { chart } from '../lib/charts.js';
import { $, el, legend } from '../lib/dom.js';
import { operation, request } from '../lib/graphql.js';

var QUALITY = operation('dashboard', 'DashboardCorrectionQuality');

/** Reads recall, specificity and agreement against corrections, per day over the last 7 days, and draws them. */
export function loadQuality() {
  var to = new Date();
  var from = new Date(to.getTime() - 7 * 86400000);
  return request(QUALITY, {
    input: { from: from.toISOString(), to: to.toISOString(), bucketSeconds: 86400 },
  }).then(
    function (data) {
      renderQuality(data.correctionQuality);
    },
    function (error) {
      renderQuality(null, error.message || error.code);
    },
  );
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
