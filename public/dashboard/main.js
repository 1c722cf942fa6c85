/*
 * Care Companion monitoring dashboard: native ES modules, no build step. This module wires the
 * panels (panels/*.js) to the session: sign in with a pasted bearer token (sessionStorage), read the
 * GraphQL API with named operations of client/*.graphql (lib/graphql.js), follow `driftDetected` and
 * `siteValidationChanged` over graphql-ws, and poll the other figures. Charts are inline SVG; all
 * server text is inserted with textContent, never as HTML.
 */
import { toast } from './lib/dom.js';
import { connectLive } from './lib/live.js';
import { session } from './lib/session-state.js';
import { followAlerts, loadAlerts } from './panels/alerts.js';
import { initDrift, loadDrift, setDriftModels } from './panels/drift.js';
import { loadOverview, renderModels } from './panels/models.js';
import { loadQuality } from './panels/quality.js';
import { renderRecent } from './panels/recent.js';
import { initSession, showSignIn } from './panels/session.js';
import {
  followSiteValidation,
  initSiteValidation,
  loadSites,
  showSiteValidationFor,
} from './panels/site-validation.js';
import { renderThroughput } from './panels/throughput.js';

// Polling period of the non-live figures; `?refresh=0` turns polling off (alerts still arrive live).
var refreshParam = new URLSearchParams(location.search).get('refresh');
var REFRESH_MS = refreshParam === null ? 10000 : Number(refreshParam) * 1000;

var timer = null;
var live = null;
/** Unsubscribers of the live subscriptions. */
var following = [];
var overview = null;

/** Reads and redraws every panel; the drift and site panels need the overview's model versions first. */
function refresh() {
  return Promise.all([
    loadOverview().then(function (o) {
      overview = o;
      renderModels(o);
      setDriftModels(o.modelVersions);
      renderThroughput(o);
      renderRecent(o);
    }),
    loadAlerts(),
    loadQuality(),
  ])
    .then(function () {
      return Promise.all([loadDrift(), loadSites(overview)]);
    })
    .catch(function (error) {
      if (error.code === 'UNAUTHENTICATED') auth.signOut();
      else toast('Could not refresh: ' + (error.message || error.code));
    });
}

var auth = initSession({
  start: function () {
    showSiteValidationFor();
    live = connectLive(session.token);
    if (live) following = [followAlerts(live, refresh), followSiteValidation(live)];
    return refresh().then(function () {
      if (REFRESH_MS > 0) timer = setInterval(refresh, REFRESH_MS);
    });
  },
  stop: function () {
    clearInterval(timer);
    following.forEach(function (unfollow) {
      unfollow();
    });
    following = [];
    if (live) live.dispose();
    live = null;
  },
});

initDrift();
initSiteValidation();
if (session.token) auth.signIn(session.token);
else showSignIn('');
