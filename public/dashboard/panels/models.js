/* Model versions and the drift settings: from `monitoringOverview`, which also feeds throughput and recent. */
import { $, el } from '../lib/dom.js';
import { operation, request } from '../lib/graphql.js';

var OVERVIEW = operation('monitoring', 'MonitoringOverview');

/** `task/version` by model version id, from the latest overview. */
var names = {};

/** A model version's short name (`chest/v1`), or undefined before the overview named it. */
export function modelName(id) {
  return names[id];
}

/** Reads the monitoring overview (model versions, throughput, recent predictions, drift settings). */
export function loadOverview() {
  return request(OVERVIEW, { minutes: 60, recent: 15 }).then(function (data) {
    var overview = data.monitoringOverview;
    overview.modelVersions.forEach(function (m) {
      names[m.id] = m.task.toLowerCase() + '/' + m.version;
    });
    return overview;
  });
}

/** Draws the model versions with their stages and the drift settings line. */
export function renderModels(overview) {
  var list = $('models');
  list.textContent = '';
  overview.modelVersions.forEach(function (m) {
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
  var d = overview.drift;
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
}
