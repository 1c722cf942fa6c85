/* Recent predictions, from the monitoring overview. */
import { $, el } from '../lib/dom.js';
import { fmtTime } from '../lib/format.js';

/** Draws the latest predictions with their route and gate verdict (no patient data). */
export function renderRecent(overview) {
  var body = $('recent');
  body.textContent = '';
  overview.recentPredictions.forEach(function (p) {
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
