/* Drift over time: one small chart per signal for the chosen model version and window kind. */
import { chart } from '../lib/charts.js';
import { $, el } from '../lib/dom.js';
import { fmtNum, fmtTime, SIGNAL_ORDER, signalTitle } from '../lib/format.js';
import { operation, request } from '../lib/graphql.js';

var CHECKS = operation('monitoring', 'DriftChecks');

/** Wires the model and window-kind selects. */
export function initDrift() {
  $('drift-model').addEventListener('change', loadDrift);
  $('drift-kind').addEventListener('change', loadDrift);
}

/** Offers the versions that have a reference profile and are not archived (keeps the choice). */
export function setDriftModels(modelVersions) {
  var select = $('drift-model');
  var current = select.value;
  var withProfile = modelVersions.filter(function (m) {
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

/** Reads the drift checks of the chosen version and window kind and draws them. */
export function loadDrift() {
  var id = $('drift-model').value;
  if (!id) return Promise.resolve();
  return request(CHECKS, { modelVersionId: id, windowKind: $('drift-kind').value }).then(function (data) {
    renderDrift(data.driftChecks);
  });
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
      el('h3', { text: signalTitle(signal) }),
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
      chart({ points: pts, threshold: threshold, title: signal, xLabels: [first, last], yMin: 0 }),
    );
    box.appendChild(panel);
  });
}
