/**
 * Chest v2 as shipped: its model.json (lineage, LOSO table, operating points), TypeScript-vs-PyTorch
 * parity under the histogram-equalised input contract, the input gate on real films through the server's
 * own decode → preprocess → onnxruntime path (non-radiographs, other body parts, chest films), the
 * internal test metrics reproduced by the TypeScript evaluator, and `predict` answering with v2 by default
 * only when it beat v1's recipe on LOSO (its promotion gate).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readCsvRecords } from '../../src/training/csv';
import { PYTHON } from '../../src/training/trainer-runner';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';
import {
  expectEvaluatorReproduces,
  gateVerdicts,
  share,
  torchParity,
  useModel,
} from '../support/model-checks';
import { requireOrSkip } from '../support/test-database';

const run = promisify(execFile);
const DIR = 'models/chest/v2';
const PARITY_TOLERANCE = 0.05;
const datasets = (p: string) => join(SHARED_DIR, 'datasets', p);
const rowsOf = (folder: string) => readCsvRecords(readFileSync(datasets(`${folder}/labels.csv`), 'utf8'));

const ready =
  sharedDataAvailable() &&
  requireOrSkip(existsSync(join(DIR, 'model.onnx')), `${DIR} (the shipped chest v2)`);

(ready ? describe : describe.skip)('chest v2', () => {
  const loaded = useModel(DIR);
  const verdicts = (files: string[]) => gateVerdicts(loaded.reader, files);

  it('declares its lineage, its LOSO table and operating points that say what a new hospital should expect', () => {
    const m = loaded.model.manifest;
    expect(m.preprocessing.id).toBe('gray-fill-bilinear-histeq-instnorm-v2');
    expect(m.lineage).toMatchObject({
      parentVersion: 'v1',
      dataManifestSha256: m.trainingData.manifestSha256,
    });
    expect(m.lineage?.promotionGate).toMatchObject({ passed: expect.any(Boolean) });
    expect(Object.keys(m.loso!.folds).sort()).toEqual(
      expect.arrayContaining(['indian_da', 'kermany', 'nih+rsna']),
    );
    expect(m.loso!.pooled).toMatchObject({ aurocAbnormal: { value: expect.any(Number) } });
    for (const t of Object.values(m.thresholds)) {
      expect(t).toMatchObject({ guarantee: expect.stringMatching(/LOSO|new hospital|site/i) });
      expect((t as { newSiteExpectation?: unknown }).newSiteExpectation).toBeDefined();
    }
    expect(readFileSync(join(DIR, 'MODEL_CARD.md'), 'utf8')).toMatch(/never trained on should expect/);
  });

  it('gives the same logits through TypeScript and PyTorch (same resize, equalisation and normalisation)', async () => {
    if (!requireOrSkip(existsSync(PYTHON), `${PYTHON} with python3-torch (scripts/setup.sh installs it)`))
      return;
    const chest = rowsOf('chest');
    const files = [
      'chest/kermany/test/NORMAL/IM-0001-0001.jpeg',
      'chest/kermany/test/PNEUMONIA/person100_bacteria_475.jpeg',
      ...['tbx11k', 'rsna', 'covid_radiography_db', 'nih'].map(
        (s) => `chest/${chest.find((r) => r.source === s)!.path}`,
      ),
      'wrist_grazpedwri_metadata/sample_images/0001_1297860395_01_WRI-L1_M014.png',
    ].map(datasets);
    const parity = await torchParity(loaded.reader, 'chest', DIR, files);
    expect(parity.preprocessing).toBe(loaded.model.manifest.preprocessing.id);
    for (const { file, diff } of parity.diffs)
      expect({ file, diff: diff < PARITY_TOLERANCE }).toEqual({ file, diff: true });
  }, 180_000);

  it('refuses non-radiographs and other body parts, and keeps chest films, as model.json reports', async () => {
    const gate = loaded.model.manifest.gate as Record<string, number>;
    const ood = await verdicts(rowsOf('ood').map((r) => datasets(`ood/${r.path}`)));
    expect(share(ood, (v) => v !== 'ACCEPTED')).toBeGreaterThanOrEqual(0.95);
    expect(share(ood, (v) => v !== 'ACCEPTED')).toBeGreaterThanOrEqual(gate.rejectedNotRadiograph! - 0.05);
    // the odd rows of the leg/hip/shoulder set were never used to fit the body-part probe
    const other = await verdicts(
      rowsOf('fracatlas_other')
        .filter((_, i) => i % 2 === 1)
        .map((r) => datasets(`fracatlas_other/${r.path}`)),
    );
    // most are named as the wrong body part; the distance check, which runs first, calls a few (6-7%) not a
    // radiograph: refused either way, as model.json's rejectedWrongBodyPart counts them
    expect(share(other, (v) => v === 'WRONG_BODY_PART')).toBeGreaterThanOrEqual(0.85);
    expect(share(other, (v) => v !== 'ACCEPTED')).toBeGreaterThanOrEqual(0.95);
    expect(share(other, (v) => v !== 'ACCEPTED')).toBeGreaterThanOrEqual(gate.rejectedWrongBodyPart! - 0.02);
    const hands = await verdicts(
      rowsOf('fracatlas_hand')
        .filter((r) => r.split === 'test')
        .map((r) => datasets(`fracatlas_hand/${r.path}`)),
    );
    expect(share(hands, (v) => v === 'WRONG_BODY_PART')).toBeGreaterThanOrEqual(0.9);
    // chest films of every source, from the test split
    const chestTest = readCsvRecords(readFileSync(join(DIR, 'manifest.csv'), 'utf8')).filter(
      (r) => r.split === 'test',
    );
    const bySource = new Map<string, string[]>();
    for (const r of chestTest) bySource.set(r.source!, [...(bySource.get(r.source!) ?? []), r.path!]);
    const sample = [...bySource.values()].flatMap((paths) => paths.slice(0, 40)).map(datasets);
    const chest = await verdicts(sample);
    expect(share(chest, (v) => v !== 'ACCEPTED')).toBeLessThanOrEqual(0.02);
  }, 600_000);

  it('reproduces the internal test metrics of model.json through the TypeScript evaluator', async () => {
    await expectEvaluatorReproduces(DIR, datasets(''), loaded.model);
  }, 900_000);

  it('answers predict by default only if it passed its promotion gate; either version can be named', async () => {
    const film = datasets('chest/kermany/test/NORMAL/IM-0001-0001.jpeg');
    const cli = [process.execPath, '-r', '@swc-node/register', 'src/cli/predict.ts'];
    const predict = async (...args: string[]) =>
      JSON.parse((await run(cli[0]!, [...cli.slice(1), '--task', 'chest', ...args, film])).stdout) as {
        model: string;
      };
    const passed = loaded.model.manifest.lineage?.promotionGate?.passed === true;
    expect((await predict()).model).toBe(passed ? 'care-companion-chest@v2' : 'care-companion-chest@v1');
    expect((await predict('--model', 'models/chest/v1')).model).toBe('care-companion-chest@v1');
    expect((await predict('--model', DIR)).model).toBe('care-companion-chest@v2');
  }, 120_000);
});
