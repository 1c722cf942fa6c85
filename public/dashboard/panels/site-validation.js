/*
 * Site validation (roles that read it): a site's status for a model version, the latest evaluation per
 * finding, reliability and ROC plots; admins evaluate and approve from it; it follows
 * `siteValidationChanged` live.
 */
import { unitPlot } from '../lib/charts.js';
import { $, el, legend, svg, toast } from '../lib/dom.js';
import { fmtNum, pct, withInterval } from '../lib/format.js';
import { operation, request, subscribe } from '../lib/graphql.js';
import { may } from '../lib/session-state.js';

var SITES = operation('dashboard', 'DashboardSites');
var SITE_VALIDATION = operation('dashboard', 'DashboardSiteValidation');
var CHANGED = operation('dashboard', 'DashboardSiteValidationChanged');
var EVALUATE = operation('dashboard', 'DashboardEvaluateSite');
var APPROVE = operation('dashboard', 'DashboardApproveSiteOperatingPoint');

/** The site validation last drawn. */
var validation = null;

/** Wires the site and model selects and the admin's evaluate and approve buttons. */
export function initSiteValidation() {
  $('site-select').addEventListener('change', loadSiteValidation);
  $('site-model').addEventListener('change', loadSiteValidation);
  $('site-evaluate').addEventListener('click', function () {
    var target = $('site-target').value;
    siteAction(
      EVALUATE,
      {
        siteId: $('site-select').value,
        modelVersionId: $('site-model').value,
        targetRecall: target ? Number(target) : null,
      },
      function () {
        toast('Evaluation queued: the panel updates when it finishes.');
        loadSiteValidation();
      },
    );
  });
  $('site-approve').addEventListener('click', function () {
    var e = validation && validation.latestEvaluation;
    if (!e) return;
    siteAction(APPROVE, { evaluationId: e.id }, function () {
      toast('Site operating point approved.');
      loadSiteValidation();
    });
  });
}

/** Shows the panel to roles that read site validation, and its actions to those that manage models. */
export function showSiteValidationFor() {
  $('site-validation').hidden = !may('READ_SITE_VALIDATION');
  $('site-actions').hidden = !may('MANAGE_MODELS');
}

/** Follows `siteValidationChanged` (when the role reads site validation): redraws the chosen site's panel. */
export function followSiteValidation(client) {
  if (!may('READ_SITE_VALIDATION')) return function () {};
  return subscribe(
    client,
    CHANGED,
    {},
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

function siteAction(mutation, variables, done) {
  return request(mutation, variables).then(done, function (error) {
    toast(error.message || error.code);
  });
}

/**
 * Reads the sites (for roles that read site validation), offers them and the model versions of
 * `overview`, keeping the choices, then loads the chosen pair.
 */
export function loadSites(overview) {
  if (!may('READ_SITE_VALIDATION')) return Promise.resolve();
  return request(SITES).then(function (data) {
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
    var versions = overview.modelVersions;
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

/** Reads and draws how the chosen model version stands at the chosen site. */
export function loadSiteValidation() {
  var siteId = $('site-select').value;
  var modelVersionId = $('site-model').value;
  if (!siteId || !modelVersionId) return Promise.resolve();
  return request(SITE_VALIDATION, { siteId: siteId, modelVersionId: modelVersionId }).then(function (data) {
    validation = data.siteValidation;
    renderSiteValidation();
  });
}

function renderSiteValidation() {
  var v = validation;
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
  box.appendChild(el('h3', { className: 'small', text: 'ROC on the site (○ shipped point, ● site point)' }));
  box.appendChild(legendBox);
  box.appendChild(plot.root);
}
