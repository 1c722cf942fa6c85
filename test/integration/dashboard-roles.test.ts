/**
 * The dashboard shows each role what it may see, and nothing before sign-in (issue 15, item 9), in a
 * real browser (Debian's Chromium through playwright-core). Regressions: "Sign out" and "No open drift
 * alerts" showed before anyone signed in (a CSS display rule beat the hidden attribute), and an
 * integrator was left on the sign-in page with no message (the role check threw inside the success
 * handler, where the failure handler never saw it).
 */
import { existsSync } from 'node:fs';
import { chromium, Browser, Page } from 'playwright-core';
import { DriftAlert } from '../../src/domain/drift/drift-alert.entity';
import { ModelStage, ModelTask, Role } from '../../src/domain/enums';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const CHROMIUM = '/usr/bin/chromium';
const ready = requireOrSkip(existsSync(CHROMIUM), `Debian chromium at ${CHROMIUM}`);

(ready ? describe : describe.skip)('dashboard by role', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    t = await startTestApp({ ANALYSIS_WORKERS: '0', RETRAIN_WORKERS: '0' });
    const em = t.app.orm.em.fork();
    const v = await em.findOneOrFail(ModelVersion, { task: ModelTask.CHEST, stage: ModelStage.PRODUCTION });
    em.create(DriftAlert, {
      modelVersion: v,
      signal: 'confidence',
      statistic: 'KS',
      value: 0.5,
      threshold: 0.1,
      windowStart: new Date(Date.now() - 60_000),
      windowEnd: new Date(),
      windowSize: 10,
    } as DriftAlert);
    await em.flush();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });
  beforeEach(async () => {
    page = await (await browser.newContext()).newPage();
    await page.goto(`${t.app.url}/dashboard?refresh=0`);
  });
  afterEach(async () => page?.context().close());

  const signIn = async (role: Role) => {
    await page.fill('#token-input', await t.tokenFor(role));
    await page.click('#sign-in');
  };

  it('shows only the sign-in form before anyone signs in', async () => {
    await page.waitForSelector('#sign-in-panel:not([hidden])');
    expect(await page.isVisible('#sign-in')).toBe(true);
    for (const selector of [
      '#sign-out',
      '#session',
      '#dashboard',
      '#alerts-empty',
      'text=No open drift alerts',
    ])
      expect({ selector, visible: await page.isVisible(selector) }).toEqual({ selector, visible: false });
  });

  it('tells an integrator why the dashboard is not for its role', async () => {
    await signIn(Role.INTEGRATOR);
    await page.waitForSelector('#sign-in-error:has-text("cannot read monitoring figures")');
    expect(await page.textContent('#sign-in-error')).toMatch(/integrator/);
    expect(await page.isVisible('#dashboard')).toBe(false);
    expect(await page.isVisible('#sign-out')).toBe(false);
  });

  it('shows a radiologist the alerts without triage buttons, and a technician with them', async () => {
    await signIn(Role.RADIOLOGIST);
    await page.waitForSelector('#alerts .alert-item');
    expect(await page.isVisible('#sign-out')).toBe(true);
    expect(await page.locator('#alerts button').count()).toBe(0);

    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-panel:not([hidden])');
    expect(await page.isVisible('#dashboard')).toBe(false);
    await signIn(Role.TECHNICIAN);
    await page.waitForSelector('#alerts .alert-item button:has-text("Acknowledge")');
  });
});
