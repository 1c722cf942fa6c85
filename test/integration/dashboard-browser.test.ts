/**
 * The monitoring dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
 * playwright-core loads /dashboard from a running server, signs in with a token, shows the drift
 * chart of an in-distribution window, and shows a drift alert live (polling off: only the
 * `driftDetected` subscription can bring it) after a batch of NIH adult films is analysed through
 * the API. Saves screenshots under test/output/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, Browser, Page } from 'playwright-core';
import { Role } from '../../src/domain/enums';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { inDistributionFilms, nihFilms } from '../support/drift-films';
import { shippedVersion } from '../support/model-repository';
import { sharedDataAvailable } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const CHROMIUM = '/usr/bin/chromium';
// 20 films: with a window of 10, the predicted-class mix of held-out films wanders past the alarm line by chance
// (chest v2: 7 of 8 seeds). Far below the default of 100; see the README (Drift).
const WINDOW = 20;
const OUTPUT = join(__dirname, '..', 'output');

const ready = sharedDataAvailable() && requireOrSkip(existsSync(CHROMIUM), `Debian chromium at ${CHROMIUM}`);

(ready ? describe : describe.skip)('monitoring dashboard in headless Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let tech: string;
  let admin: string;
  let patientId: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      DRIFT_WINDOW_SIZE: String(WINDOW),
      DRIFT_TIME_WINDOW_MINUTES: '0',
      ANALYSIS_WORKERS: '1',
      DECODE_WORKERS: '1',
    });
    tech = await t.tokenFor(Role.TECHNICIAN);
    admin = await t.tokenFor(Role.ADMIN);
    patientId = await createPatient(t, tech);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1500 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    mkdirSync(OUTPUT, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  /** Registers one study per film and analyses them as one durable batch job; resolves when it completes. */
  async function analyseBatch(films: string[]): Promise<void> {
    const studyIds: string[] = [];
    for (const film of films) {
      const studyId = await createStudy(t, tech, patientId, 'CHEST');
      await attach(t, tech, studyId, film, 'PA');
      studyIds.push(studyId);
    }
    const job = await t.gql<{ submitStudies: { id: string } }>(
      tech,
      'mutation($ids: [ID!]!) { submitStudies(studyIds: $ids) { id } }',
      { ids: studyIds },
    );
    if (job.errors) throw new Error(JSON.stringify(job.errors));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await t.gql<{ analysisJob: { status: string } }>(
        tech,
        'query($id: ID!) { analysisJob(id: $id) { status } }',
        { id: job.data!.submitStudies.id },
      );
      const status = r.data?.analysisJob.status;
      if (status === 'COMPLETED') return;
      if (status === 'FAILED' || Date.now() > deadline) throw new Error(`batch job ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('refuses a bad token and signs in with a good one', async () => {
    await page.goto(`${t.app.url}/dashboard?refresh=0`);
    await page.fill('#token-input', 'not-a-token');
    await page.click('#sign-in');
    await page.waitForSelector('#sign-in-error:text("not valid")');
    await page.fill('#token-input', admin);
    await page.click('#sign-in');
    await page.waitForSelector('#dashboard:not([hidden])');
    await page.waitForSelector('#live-status[data-state="live"]');
    // The socket and the first refresh run side by side: wait for the refresh to have drawn the panels
    // (regression: the socket connected first and the model list was read while still empty).
    await page.waitForSelector('#models li:has-text("chest / v1")');
    await page.waitForSelector('#quality-note:has-text("No radiologist corrections")');
    // The refused token's 401 was expected; from here on the page must log no error.
    consoleErrors.length = 0;
  });

  it('shows an in-distribution window without alert, then a drift alert live after a shifted batch', async () => {
    const chestVersion = await shippedVersion('chest');
    await analyseBatch(
      inDistributionFilms(WINDOW, 5, chestVersion).map((f) => `chest/${f.replace(/^chest\//, '')}`),
    );
    // A radiologist corrects three readings, so the quality panel has figures to draw.
    const recent = await t.gql<{
      monitoringOverview: { recentPredictions: { id: string; label: string }[] };
    }>(tech, '{ monitoringOverview(recent: 3) { recentPredictions { id label } } }');
    const radiologist = await t.tokenFor(Role.RADIOLOGIST);
    for (const p of recent.data!.monitoringOverview.recentPredictions) {
      const c = await t.gql(
        radiologist,
        'mutation($p: ID!, $l: String!) { submitCorrection(input: {predictionId: $p, label: $l}) { id } }',
        { p: p.id, l: p.label === 'NORMAL' ? 'PNEUMONIA' : p.label },
      );
      expect(c.errors).toBeUndefined();
    }
    // Polling is off: reload to draw the first window's chart.
    await page.reload();
    await page.waitForSelector('#live-status[data-state="live"]');
    await page.waitForSelector('#drift-charts .panel[data-signal="embedding"] circle');
    expect(await page.locator('.alert-item').count()).toBe(0);
    expect(await page.locator('#drift-charts circle.drifted').count()).toBe(0);
    await page.waitForSelector('#quality-chart svg');
    expect(await page.textContent('#quality-note')).toContain('Against radiologist corrections');

    await analyseBatch(
      nihFilms(WINDOW + 3, 7, chestVersion).map((f) => `chest/${f.replace(/^chest\//, '')}`),
    );
    const alert = page.locator('.alert-item').first();
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toContain('drifted');
    await page.waitForSelector('#drift-charts circle.drifted');
    expect(Number(await page.textContent('#alert-count'))).toBeGreaterThan(0);
    await page.screenshot({ path: join(OUTPUT, 'dashboard-drift-alert.png'), fullPage: true });

    // Triage from the page: acknowledge the first alert.
    const id = await alert.getAttribute('data-signal');
    await alert.locator('button:text("Acknowledge")').click();
    await page.waitForSelector(`.alert-item[data-signal="${id}"][data-status="ACKNOWLEDGED"]`);
    expect(consoleErrors).toEqual([]);
  });
});
