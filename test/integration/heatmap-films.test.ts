/**
 * Heatmaps a radiologist can read (issue 15, item 7), on real films through the whole analysis: the
 * map has the film's proportions (not the model's square input), names its finding in a title band,
 * carries a colour scale, and comes over the film or bare (`?overlay=false`). The PNGs are written
 * to test/output/ to be looked at.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Role } from '../../src/domain/enums';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { sharedDataAvailable } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const OUTPUT = join(__dirname, '..', 'output');
const ready =
  sharedDataAvailable() &&
  requireOrSkip(
    existsSync('models/chest/v1/model.onnx') && existsSync('models/wrist/v1/model.onnx'),
    'trained models under models/',
  );
let t: TestApp;
let tech: string;
let radiologist: string;

beforeAll(async () => {
  if (!ready) return;
  t = await startTestApp({ ANALYSIS_WORKERS: '0', RETRAIN_WORKERS: '0', HEATMAP_SIZE: '256' });
  tech = await t.tokenFor(Role.TECHNICIAN);
  radiologist = await t.tokenFor(Role.RADIOLOGIST);
  mkdirSync(OUTPUT, { recursive: true });
});
afterAll(async () => t?.stop());

async function heatmapOf(studyId: string): Promise<{ url: string; label: string | null }> {
  const r = await t.gql<{
    analyzeStudy: { gateVerdict: string; heatmapUrl: string | null; label: string | null };
  }>(radiologist, 'mutation($s: ID!) { analyzeStudy(studyId: $s) { gateVerdict heatmapUrl label } }', {
    s: studyId,
  });
  expect(r.errors).toBeUndefined();
  expect(r.data!.analyzeStudy.gateVerdict).toBe('ACCEPTED');
  expect(r.data!.analyzeStudy.heatmapUrl).toMatch(/^\/predictions\/.+\/heatmap$/);
  return { url: r.data!.analyzeStudy.heatmapUrl!, label: r.data!.analyzeStudy.label };
}

async function fetchPng(path: string): Promise<Buffer> {
  const res = await fetch(`${t.app.url}${path}`, { headers: { authorization: `Bearer ${radiologist}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/png');
  return Buffer.from(await res.arrayBuffer());
}

/** Checks the layout of a labelled heatmap of a film `filmW × filmH` at long side 256. */
async function expectLayout(png: Buffer, filmW: number, filmH: number): Promise<void> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const aspect = filmW / filmH;
  const fw = Math.round(aspect >= 1 ? 256 : 256 * aspect);
  const fh = Math.round(aspect >= 1 ? 256 / aspect : 256);
  expect([info.width, info.height]).toEqual([fw + 34, fh + 22]);
  const at = (x: number, y: number) => [
    ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
  ];
  let lit = 0;
  for (let x = 0; x < fw; x++) for (let y = 4; y < 18; y++) if (at(x, y)[0]! > 200) lit++;
  expect(lit).toBeGreaterThan(50); // the finding's name
  const high = at(fw + 12, 22 + 14);
  const low = at(fw + 12, 22 + fh - 14);
  expect(high[0]! - high[2]!).toBeGreaterThan(60); // red at the top of the scale
  expect(low[2]! - low[0]!).toBeGreaterThan(60); // blue at the bottom
}

describe('heatmaps on real films', () => {
  it("draws a chest DX film's map in the film's proportions, over the film and bare", async () => {
    if (!ready) return;
    const studyId = await createStudy(t, tech, await createPatient(t, tech), 'CHEST');
    // DX chest PA, 2000 columns × 2128 rows; its header names another patient and order.
    await attach(
      t,
      tech,
      studyId,
      'dicom/real_radiographs/DX_chest_MONO1_j2k_lossless_966_fixed.dcm',
      'PA',
      undefined,
      {
        accept: ['PATIENT_MISMATCH', 'ACCESSION_MISMATCH'],
        reason: 'test film',
      },
    );
    const { url } = await heatmapOf(studyId);
    const overlay = await fetchPng(url);
    const bare = await fetchPng(`${url}?overlay=false`);
    writeFileSync(join(OUTPUT, 'heatmap-chest-dx-overlay.png'), overlay);
    writeFileSync(join(OUTPUT, 'heatmap-chest-dx-bare.png'), bare);
    await expectLayout(overlay, 2000, 2128);
    await expectLayout(bare, 2000, 2128);
    expect(bare.equals(overlay)).toBe(false);
  });

  it('draws a wrist PA film (wider than tall) in its proportions', async () => {
    if (!ready) return;
    const studyId = await createStudy(t, tech, await createPatient(t, tech), 'WRIST');
    // FracAtlas hand films: the PA 448 × 368, the lateral beside it.
    await attach(t, tech, studyId, 'fracatlas_hand/NO_FRACTURE/IMG0000523.jpg', 'PA');
    await attach(t, tech, studyId, 'fracatlas_hand/NO_FRACTURE/IMG0003961.jpg', 'LATERAL');
    const { url } = await heatmapOf(studyId);
    const overlay = await fetchPng(url);
    writeFileSync(join(OUTPUT, 'heatmap-wrist-overlay.png'), overlay);
    writeFileSync(join(OUTPUT, 'heatmap-wrist-bare.png'), await fetchPng(`${url}?overlay=false`));
    await expectLayout(overlay, 448, 368);
  });
});
