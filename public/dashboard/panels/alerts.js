/*
 * Open drift alerts: listed by query, arriving live over the `driftDetected` subscription, triaged
 * (acknowledge, resolve) by the roles that may.
 */
import { $, el, toast } from '../lib/dom.js';
import { fmtNum, fmtTime, signalTitle } from '../lib/format.js';
import { operation, request, subscribe } from '../lib/graphql.js';
import { setLive } from '../lib/live.js';
import { may } from '../lib/session-state.js';
import { modelName } from './models.js';

var ALERTS = operation('monitoring', 'DriftAlerts');
var ACKNOWLEDGE = operation('monitoring', 'AcknowledgeDriftAlert');
var RESOLVE = operation('monitoring', 'ResolveDriftAlert');
var DETECTED = operation('monitoring', 'DriftDetected');

var alerts = [];
/** Ids of alerts that arrived live since the page loaded (highlighted until triaged). */
var fresh = {};

/** Reads the latest alerts (every state) and draws them. */
export function loadAlerts() {
  return request(ALERTS).then(function (data) {
    alerts = data.driftAlerts.edges.map(function (e) {
      return e.node;
    });
    renderAlerts();
  });
}

/** Follows `driftDetected` on the live client; `onAlert()` runs after each new alert is drawn. */
export function followAlerts(client, onAlert) {
  return subscribe(
    client,
    DETECTED,
    {},
    {
      next: function (msg) {
        if (msg.data && msg.data.driftDetected) {
          arrived(msg.data.driftDetected);
          onAlert();
        }
      },
      error: function () {
        setLive('closed', 'live updates refused');
      },
      complete: function () {},
    },
  );
}

function arrived(alert) {
  fresh[alert.id] = true;
  alerts = [alert].concat(
    alerts.filter(function (a) {
      return a.id !== alert.id;
    }),
  );
  renderAlerts();
  var m = modelName(alert.modelVersionId);
  toast('Drift detected: ' + signalTitle(alert.signal) + (m ? ' on ' + m : ''));
}

function renderAlerts() {
  var open = alerts.filter(function (a) {
    return a.status !== 'RESOLVED';
  });
  var list = $('alerts');
  list.textContent = '';
  open.forEach(function (a) {
    var li = el('li', { className: 'alert-item', 'data-signal': a.signal, 'data-status': a.status });
    if (fresh[a.id]) li.classList.add('fresh');
    li.appendChild(
      el('div', {
        className: 'title',
        text: signalTitle(a.signal) + ' drifted · ' + (modelName(a.modelVersionId) || 'model'),
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
      if (a.status === 'OPEN')
        actions.appendChild(triageButton(a, ACKNOWLEDGE, 'acknowledgeDriftAlert', 'Acknowledge'));
      actions.appendChild(triageButton(a, RESOLVE, 'resolveDriftAlert', 'Resolve'));
      li.appendChild(actions);
    }
    list.appendChild(li);
  });
  $('alerts-empty').hidden = open.length > 0;
  var count = $('alert-count');
  count.textContent = String(open.length);
  count.classList.toggle('hot', open.length > 0);
}

/** A button that runs a triage mutation (`field` is its root field) and redraws the alert it returns. */
function triageButton(alert, mutation, field, label) {
  var b = el('button', { type: 'button', className: 'secondary', text: label });
  b.addEventListener('click', function () {
    request(mutation, { id: alert.id }).then(
      function (data) {
        var updated = data[field];
        alerts = alerts.map(function (a) {
          return a.id === updated.id ? updated : a;
        });
        delete fresh[updated.id];
        renderAlerts();
      },
      function (error) {
        toast(error.code === 'FORBIDDEN' ? 'Your role cannot triage alerts.' : error.message);
      },
    );
  });
  return b;
}
