/**
 * The dashboard's site validation panel in a real browser (Debian's Chromium through playwright-core),
 * with the real chest model on films of sources it never trained on (rsna normals, COVID-19 pneumonia):
 * an admin evaluates the site from the page, the panel fills in live when the job ends (findings with
 * intervals, a reliability plot and a ROC curve), the admin approves the site operating point from the
 * page and the site shows VALIDATED; a radiologist sees the panel without the admin's buttons, a
 * technician does not see it. Saves test/output/dashboard-site-validation.png.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, Browser, Page } from 'playwright-core';
import { Role } from '../../src/domain/enums';
import { readCsvRecords } from '../../src/training/csv';
import { attach, createPatient } from '../support/clinical-fixtures';
import { chestModelAvailable, chestRepository } from '../support/model-repository';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const CHROMIUM = '/usr/bin/chromium';
const ready =
  requireOrSkip(existsSync(CHROMIUM), `Debian chromium at ${CHROMIUM}`) &&
  sharedDataAvailable() &&
  requireOrSkip(chestModelAvailable(), 'trained chest model under models/chest/v1');

const films = (source: string, label: string, n: number) =>
  readCsvRecords(readFileSync(join(SHARED_DIR, 'datasets/chest/labels.csv'), 'utf8'))
    .filter((r) => r.source === source && r.label === label)
    .slice(0, n)
    .map((r) => ({ film: `chest/${r.path}`, label }));

(ready ? describe : describe.skip)('dashboard: site validation', () => {
  let t: TestApp;
  let modelsDir: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    modelsDir = chestRepository(['v1']);
    t = await startTestApp({
      MODELS_DIR: modelsDir,
      ANALYSIS_WORKERS: '0',
      RETRAIN_WORKERS: '0',
      SITE_VALIDATION_RESAMPLES: '200',
    });
    const [admin, tech, radiologist] = await Promise.all(
      [Role.ADMIN, Role.TECHNICIAN, Role.RADIOLOGIST].map((r) => t.tokenFor(r)),
    );
    const site = await t.gql<{ createSite: { id: string } }>(
      admin,
      'mutation { createSite(input: {code: "riverside", name: "Riverside radiology"}) { id } }',
    );
    const siteId = site.data!.createSite.id;
    const items: { studyId: string; label: string }[] = [];
    for (const f of [...films('rsna', 'NORMAL', 8), ...films('covid_radiography_db', 'PNEUMONIA', 8)]) {
      const r = await t.gql<{ createStudy: { id: string } }>(
        tech,
        'mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }',
        {
          i: {
            patientId: await createPatient(t, tech),
            bodyPart: 'CHEST',
            accessionNumber: `RV-${items.length}`,
            siteId,
          },
        },
      );
      await attach(t, tech, r.data!.createStudy.id, f.film, 'PA');
      items.push({ studyId: r.data!.createStudy.id, label: f.label });
    }
    const imported = await t.gql(
      radiologist,
      'mutation($i: AddSiteValidationStudiesInput!) { addSiteValidationStudies(input: $i) { n } }',
      { i: { siteId, items } },
    );
    expect(imported.errors).toBeUndefined();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1300 } })).newPage();
    await page.goto(`${t.app.url}/dashboard?refresh=0`);
  });
  afterEach(async () => page?.context().close());

  const signIn = async (role: Role) => {
    await page.fill('#token-input', await t.tokenFor(role));
    await page.click('#sign-in');
    await page.waitForSelector('#dashboard:not([hidden])');
  };

  it('lets an admin evaluate the site, shows the result live with its plots, and approve its operating point', async () => {
    await signIn(Role.ADMIN);
    await page.waitForSelector('#site-validated:has-text("NOT VALIDATED")');
    expect(await page.textContent('#site-select')).toContain('Riverside radiology');
    expect(await page.textContent('#site-status')).toContain('16 labelled studies of 16 patients');
    await page.waitForSelector('#live-status[data-state="live"]');
    // 8 positives carry a guarantee at an 80% target (4 needed)
    await page.fill('#site-target', '0.8');
    await page.click('#site-evaluate');
    // polling is off: the result arrives through siteValidationChanged
    await page.waitForSelector('#site-evaluation .badge.SUCCEEDED', { timeout: 180_000 });
    expect(await page.textContent('#site-evaluation')).toMatch(
      /16 studies, 16 patients; the gate refused \d+/,
    );
    const pneumonia = await page.textContent('#site-findings tr[data-finding="PNEUMONIA"]');
    expect(pneumonia).toMatch(/\(8 site positives\)/);
    expect(pneumonia).toMatch(/recall \d+\.\d% \[\d+\.\d%, \d+\.\d%\]/);
    expect(await page.textContent('#site-findings tr[data-finding="TUBERCULOSIS"]')).toContain(
      'shipped kept: 4 more positives needed',
    );
    expect(await page.locator('#reliability-chart circle.reliability-bin').count()).toBeGreaterThan(0);
    expect(await page.locator('#roc-chart polyline.roc-curve[data-finding="PNEUMONIA"]').count()).toBe(1);
    expect(await page.locator('#roc-chart circle.roc-point.site').count()).toBe(1);

    await page.click('#site-approve');
    await page.waitForSelector('#site-validated:has-text("VALIDATED"):not(:has-text("NOT"))');
    expect(await page.isVisible('#site-approve')).toBe(false);
    mkdirSync('test/output', { recursive: true });
    await page.locator('#site-validation').screenshot({ path: 'test/output/dashboard-site-validation.png' });
  }, 300_000);

  it('shows a radiologist the panel without the admin buttons, and a technician none of it', async () => {
    await signIn(Role.RADIOLOGIST);
    await page.waitForSelector('#site-validated');
    expect(await page.isVisible('#site-validation')).toBe(true);
    expect(await page.isVisible('#site-evaluate')).toBe(false);
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-panel:not([hidden])');
    await signIn(Role.TECHNICIAN);
    await page.waitForSelector('#models li');
    expect(await page.isVisible('#site-validation')).toBe(false);
  }, 120_000);
});
