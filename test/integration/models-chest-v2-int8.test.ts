/**
 * Chest v2's int8 graph (model.int8.onnx, `ENGINE_PRECISION=int8`): loaded with its own gate thresholds
 * through the server's path, its readings beside model.onnx's on real films of every set its acceptance
 * was measured on (`npm run evaluate -- --variant int8`; `src/training/precision-variant.ts`), and the
 * acceptance recorded in model.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvRecords } from '../../src/training/csv';
import { OnnxSessionFactory } from '../../src/inference/onnx/onnx-session.factory';
import { calibratedSoftmax } from '../../src/inference/postprocess';
import { judgeVariant, readWithBothGraphs, VARIANT_TOLERANCE } from '../../src/training/precision-variant';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';
import { gateVerdicts, share, useModel } from '../support/model-checks';
import { requireOrSkip } from '../support/test-database';
import { Role } from '../../src/domain/enums';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { startTestApp } from '../support/test-app';

const DIR = 'models/chest/v2';
const datasets = join(SHARED_DIR, 'datasets');

const ready =
  sharedDataAvailable() &&
  requireOrSkip(existsSync(join(DIR, 'model.int8.onnx')), `${DIR}/model.int8.onnx (the shipped int8 graph)`);

(ready ? describe : describe.skip)('chest v2 int8', () => {
  const int8 = useModel(DIR, 'int8');
  const fp32 = useModel(DIR);
  const variant = () => {
    const v = JSON.parse(readFileSync(join(DIR, 'model.json'), 'utf8')).variants.int8;
    return v as { file: string; sha256: string; accepted: boolean; gate: Record<string, number> } & {
      acceptance: {
        checks: { name: string; fp32: number; int8: number; passed: boolean }[];
        failed: string[];
      };
    };
  };

  it('is recorded as accepted, with every check within the tolerance, and its bytes are the ones recorded', () => {
    const v = variant();
    expect(v.accepted).toBe(true);
    expect(v.acceptance.failed).toEqual([]);
    expect(v.acceptance.checks.length).toBeGreaterThanOrEqual(15);
    for (const c of v.acceptance.checks.filter((c) => /AUROC|recall/.test(c.name)))
      expect({ name: c.name, ok: Math.abs(c.int8 - c.fp32) <= VARIANT_TOLERANCE + 1e-9 }).toEqual({
        name: c.name,
        ok: true,
      });
    expect(
      createHash('sha256')
        .update(readFileSync(join(DIR, v.file)))
        .digest('hex'),
    ).toBe(v.sha256);
  });

  it('loads as int8 with its own gate thresholds and model.onnx operating points', () => {
    const m = int8.model.manifest;
    const fp32 = JSON.parse(readFileSync(join(DIR, 'model.json'), 'utf8'));
    expect(int8.model.precision).toBe('int8');
    expect(m.gate.oodDistanceThreshold).toBe(variant().gate.oodDistanceThreshold);
    expect(m.gate.notTargetLogitThreshold).toBe(variant().gate.notTargetLogitThreshold);
    expect(m.gate.oodDistanceThreshold).not.toBe(fp32.gate.oodDistanceThreshold);
    expect(m.thresholds.PNEUMONIA!.value).toBe(fp32.thresholds.PNEUMONIA.value);
  });

  it('reads real films as model.onnx does: the same class, close probabilities, the same gate verdicts', async () => {
    const { manifest, films } = await readWithBothGraphs({
      model: DIR,
      graph: join(DIR, 'model.int8.onnx'),
      datasets,
      factory: new OnnxSessionFactory(),
      perSet: 40,
    });
    expect(new Set(films.map((f) => f.set))).toEqual(
      new Set(['val', 'test', 'ood', 'bone', 'hand_test', 'other']),
    );
    const chest = films.filter((f) => f.set === 'val' || f.set === 'test');
    let same = 0;
    let worst = 0;
    for (const f of chest) {
      const [a, b] = [f.fp32, f.int8].map((r) => calibratedSoftmax(r.logits, manifest.temperature));
      if (a!.indexOf(Math.max(...a!)) === b!.indexOf(Math.max(...b!))) same++;
      worst = Math.max(worst, ...a!.map((p, k) => Math.abs(p - b![k]!)));
    }
    expect(same / chest.length).toBeGreaterThanOrEqual(0.97);
    expect(worst).toBeLessThan(0.1);
    // each graph with its own gate: the verdicts agree on nearly every film of every set
    const j = judgeVariant(manifest, films);
    const refused = (g: 'fp32' | 'int8', r: (typeof films)[number]['fp32']) => {
      const gate = g === 'fp32' ? manifest.gate : variant().gate;
      return r.oodDistance > gate.oodDistanceThreshold! || r.notTargetLogit! > gate.notTargetLogitThreshold!;
    };
    const agree = films.filter((f) => refused('fp32', f.fp32) === refused('int8', f.int8)).length;
    expect(agree / films.length).toBeGreaterThanOrEqual(0.97);
    expect(j.gate.oodDistanceThreshold).toBeGreaterThan(0);
  }, 300_000);

  it('refuses other body parts and non-radiographs through the reader and keeps chest films', async () => {
    const rows = (folder: string) =>
      readCsvRecords(readFileSync(join(datasets, folder, 'labels.csv'), 'utf8')).map((r) =>
        join(datasets, folder, r.path!),
      );
    const hands = await gateVerdicts(int8.reader, rows('fracatlas_hand').slice(0, 30));
    expect(share(hands, (v) => v !== 'ACCEPTED')).toBeGreaterThanOrEqual(0.95);
    const ood = await gateVerdicts(int8.reader, rows('ood'));
    expect(share(ood, (v) => v !== 'ACCEPTED')).toBeGreaterThanOrEqual(0.85);
    const chestFiles = readCsvRecords(readFileSync(join(DIR, 'manifest.csv'), 'utf8'))
      .filter((r) => r.split === 'test')
      .slice(0, 60)
      .map((r) => join(datasets, r.path!));
    const chest = await gateVerdicts(int8.reader, chestFiles);
    // as model.onnx does on the same films (a few of the test split are refused by either graph)
    const chestFp32 = await gateVerdicts(fp32.reader, chestFiles);
    expect(share(chest, (v) => v === 'ACCEPTED')).toBeGreaterThanOrEqual(0.95);
    expect(chest.filter((v, i) => v !== chestFp32[i]).length).toBeLessThanOrEqual(1);
  }, 300_000);

  it('answers analyzeStudy from the int8 graph when the app runs with ENGINE_PRECISION=int8, and says so', async () => {
    const t = await startTestApp({ ENGINE_PRECISION: 'int8' });
    try {
      const tech = await t.tokenFor(Role.TECHNICIAN);
      const radiologist = await t.tokenFor(Role.RADIOLOGIST);
      const studyId = await createStudy(t, tech, await createPatient(t, tech), 'CHEST');
      await attach(t, tech, studyId, 'chest/kermany/test/PNEUMONIA/person100_bacteria_475.jpeg', 'AP');
      const r = await t.gql<{
        analyzeStudy: { graphPrecision: string; gateVerdict: string; modelVersionId: string };
      }>(
        radiologist,
        'mutation($s: ID!) { analyzeStudy(studyId: $s) { graphPrecision gateVerdict modelVersionId } }',
        {
          s: studyId,
        },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data!.analyzeStudy).toMatchObject({ graphPrecision: 'int8', gateVerdict: 'ACCEPTED' });
      const ready = (await (await fetch(`${t.app.url}/health/ready`)).json()) as {
        checks: { models: string };
      };
      expect(ready.checks.models).toMatch(/chest@v2\*? on cpu \(int8\)/);
      // wrist has no int8 graph: it runs model.onnx
      expect(ready.checks.models).toMatch(/wrist@v\d+\*? on cpu(?! \(int8\))/);
    } finally {
      await t.stop();
    }
  }, 120_000);
});
