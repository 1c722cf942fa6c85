import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeImage } from '../../src/imaging';
import { loadModel, ModelLoadError } from '../../src/inference/model-loader';
import { loadModelManifest, ModelManifest } from '../../src/inference/model-manifest';
import { OnnxSessionFactory } from '../../src/inference/onnx/onnx-session.factory';
import { COLOUR_CHROMA_LIMIT, qualityVerdict, RadiographReader } from '../../src/inference/radiograph-reader';
import { readCsvRecords } from '../../src/training/csv';
import { evaluateModel } from '../../src/training/evaluate-model';
import { PYTHON } from '../../src/training/trainer-runner';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';
import { requireOrSkip } from '../support/test-database';

const run = promisify(execFile);
const LIMITS = { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 };
const factory = new OnnxSessionFactory();
const cpu = { executionProviders: ['cpu'] };
/** Largest logit difference accepted between the TypeScript/onnxruntime path and the PyTorch trainer. */
const PARITY_TOLERANCE = 0.05;

const shipped = ['chest', 'wrist'].map((task) => `models/${task}/v1`);

function hasModels(): boolean {
  return requireOrSkip(
    shipped.every((d) => existsSync(join(d, 'model.onnx')) && existsSync(join(d, 'model.json'))),
    'shipped models under models/',
  );
}

describe('shipped models', () => {
  const ready = sharedDataAvailable() && hasModels();

  it('validate their model.json and load in onnxruntime-node with the promised inputs and outputs', async () => {
    if (!ready) return;
    for (const dir of shipped) {
      const model = await loadModel(dir, factory, cpu);
      expect(model.session.provider).toBe('cpu');
      expect(model.manifest.notice).toMatch(/clinician review/);
      expect(model.manifest.knownLimitations.length).toBeGreaterThan(0);
      expect(existsSync(join(dir, 'MODEL_CARD.md'))).toBe(true);
      // dynamic batch axis: three items in, three out
      const size = model.manifest.input.size;
      const feeds = Object.fromEntries(
        model.manifest.input.names.map((n) => [
          n,
          { data: new Float32Array(3 * size * size).fill(0.1), dims: [3, 1, size, size] },
        ]),
      );
      const out = await model.session.run(feeds);
      expect(out.logits.dims).toEqual([3, model.manifest.classes.length]);
      expect(out.ood_distance.dims[0]).toBe(3);
      expect(out.embedding.dims[0]).toBe(3);
      await model.session.release();
    }
  });

  it('give the same logits through the TypeScript pipeline and the PyTorch trainer (same resize, same normalisation)', async () => {
    if (!ready) return;
    if (!requireOrSkip(existsSync(PYTHON), `${PYTHON} with python3-torch (scripts/setup.sh installs it)`))
      return;
    const files = [
      'chest/kermany/test/NORMAL/IM-0001-0001.jpeg',
      'chest/kermany/test/PNEUMONIA/person100_bacteria_475.jpeg',
      readCsvRecords(readFileSync(join(SHARED_DIR, 'datasets/chest/labels.csv'), 'utf8'))
        .find((r) => r.source === 'tbx11k')!
        .path.replace(/^/, 'chest/'),
      'wrist_grazpedwri_metadata/sample_images/0001_1297860395_01_WRI-L1_M014.png',
    ].map((f) => join(SHARED_DIR, 'datasets', f));
    for (const task of ['chest', 'wrist'] as const) {
      const dir = `models/${task}/v1`;
      const checkpoint = join(dir, 'model.pt');
      if (
        !requireOrSkip(
          existsSync(checkpoint),
          `${checkpoint} (the PyTorch weights shipped beside model.onnx)`,
        )
      )
        return;
      const { stdout } = await run(
        PYTHON,
        ['src/training/python/predict_logits.py', '--task', task, '--checkpoint', checkpoint, ...files],
        { maxBuffer: 1 << 24 },
      );
      const python = JSON.parse(stdout) as { results: { file: string; logits: number[] }[] };
      const model = await loadModel(dir, factory, cpu);
      const reader = RadiographReader.ofModel(model);
      for (const [i, file] of files.entries()) {
        const img = await decodeImage(readFileSync(file), LIMITS);
        const tensor = await reader.tensorOf(img);
        const size = model.manifest.input.size;
        const feeds = Object.fromEntries(
          model.manifest.input.names.map((n) => [n, { data: tensor, dims: [1, 1, size, size] }]),
        );
        const out = await model.session.run(feeds);
        const ts = Array.from(out.logits.data);
        const diff = Math.max(...ts.map((v, k) => Math.abs(v - python.results[i].logits[k])));
        expect({ task, file, diff: diff < PARITY_TOLERANCE }).toEqual({ task, file, diff: true });
      }
      await model.session.release();
    }
  }, 180_000);

  it('reproduce the test metrics recorded in model.json through the TypeScript evaluator', async () => {
    if (!ready) return;
    for (const task of ['chest', 'wrist']) {
      const dir = `models/${task}/v1`;
      const manifest: ModelManifest = await loadModelManifest(dir);
      const { report } = await evaluateModel({
        model: dir,
        labels: join(dir, 'manifest.csv'),
        root: join(SHARED_DIR, 'datasets'),
        split: 'test',
        resamples: 50,
      });
      for (const c of Object.keys(manifest.metrics.aurocPerClass)) {
        const recorded = manifest.metrics.aurocPerClass[c].value;
        if (recorded === null) continue;
        expect({ task, c, auroc: report.aurocPerClass[c].value }).toEqual({
          task,
          c,
          auroc: expect.closeTo(recorded, 2),
        });
      }
      for (const [c, t] of Object.entries(manifest.thresholds)) {
        if (typeof t.testRecall === 'number')
          expect({ task, c, recall: report.atThresholds[c].recall.value }).toEqual({
            task,
            c,
            recall: expect.closeTo(t.testRecall, 2),
          });
        if (typeof t.testSpecificity === 'number')
          expect({ task, c, specificity: report.atThresholds[c].specificity.value }).toEqual({
            task,
            c,
            specificity: expect.closeTo(t.testSpecificity, 2),
          });
      }
    }
  }, 600_000);

  it('refuse the non-radiograph images at the gate, as model.json reports', async () => {
    if (!ready) return;
    const dir = 'models/chest/v1';
    const reader = RadiographReader.ofModel(await loadModel(dir, factory, cpu));
    const rows = readCsvRecords(readFileSync(join(SHARED_DIR, 'datasets/ood/labels.csv'), 'utf8'));
    let refused = 0;
    for (const row of rows) {
      const img = await decodeImage(readFileSync(join(SHARED_DIR, 'datasets/ood', row.path)), LIMITS).catch(
        () => null,
      );
      if (!img) {
        refused++; // not even decodable as an image: refused at intake
        continue;
      }
      const [r] = await reader.read([[img]]);
      if (r.gateVerdict !== 'ACCEPTED') refused++;
      else expect(r.probabilities).not.toBeNull();
    }
    const rate = refused / rows.length;
    const recorded = (reader.manifest.gate as { rejectedNotRadiograph?: number }).rejectedNotRadiograph;
    expect(rate).toBeGreaterThanOrEqual(Math.min(0.9, (recorded ?? 0.9) - 0.05));
  }, 120_000);

  it('refuse colour pictures before any model runs, and keep grey films stored as RGB', async () => {
    if (!ready) return;
    const photo = await decodeImage(
      readFileSync(join(SHARED_DIR, 'datasets/ood/sklearn/flower.jpg')),
      LIMITS,
    );
    expect(photo.chroma).toBeGreaterThan(COLOUR_CHROMA_LIMIT);
    expect(qualityVerdict(photo)).toBe('NOT_A_RADIOGRAPH');
    // Kermany films are grey pictures stored as three-channel JPEGs
    const film = await decodeImage(
      readFileSync(join(SHARED_DIR, 'datasets/chest/kermany/test/NORMAL/IM-0001-0001.jpeg')),
      LIMITS,
    );
    expect(film.photometric).toBe('RGB');
    expect(film.chroma).toBeLessThan(1);
    expect(qualityVerdict(film)).toBeNull();
    const grey = await decodeImage(readFileSync(join(SHARED_DIR, 'datasets/ood/skimage/moon.png')), LIMITS);
    expect(grey.chroma).toBeUndefined();
  });

  it('answer a corrupted or mismatched model with MODEL_LOAD_FAILED, not a crash', async () => {
    if (!ready) return;
    const tmp = mkdtempSync(join(tmpdir(), 'cc-corrupt-'));
    try {
      cpSync('models/chest/v1', join(tmp, 'a'), {
        recursive: true,
        filter: (src) => !src.endsWith('.pt') && !src.endsWith('.csv'),
      });
      const bytes = readFileSync(join(tmp, 'a', 'model.onnx'));
      writeFileSync(join(tmp, 'a', 'model.onnx'), bytes.subarray(0, Math.floor(bytes.length / 3)));
      await expect(loadModel(join(tmp, 'a'), factory, cpu)).rejects.toMatchObject({
        code: 'MODEL_LOAD_FAILED',
      });

      cpSync(join(tmp, 'a'), join(tmp, 'b'), { recursive: true });
      copyFileSync('models/chest/v1/model.onnx', join(tmp, 'b', 'model.onnx'));
      writeFileSync(join(tmp, 'b', 'model.json'), '{"name": "broken"');
      await expect(loadModel(join(tmp, 'b'), factory, cpu)).rejects.toBeInstanceOf(ModelLoadError);

      cpSync(join(tmp, 'b'), join(tmp, 'c'), { recursive: true });
      copyFileSync('models/chest/v1/model.json', join(tmp, 'c', 'model.json'));
      copyFileSync('models/wrist/v1/model.onnx', join(tmp, 'c', 'model.onnx'));
      await expect(loadModel(join(tmp, 'c'), factory, cpu)).rejects.toMatchObject({
        code: 'MODEL_LOAD_FAILED',
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('predict CLI prints one JSON line per chest image and per wrist pair', async () => {
    if (!ready) return;
    const chest = join(SHARED_DIR, 'datasets/chest/kermany/test/NORMAL/IM-0001-0001.jpeg');
    const photo = join(SHARED_DIR, 'datasets/ood/coral/cat_720p.jpg');
    const node = [process.execPath, '-r', '@swc-node/register', 'src/cli/predict.ts'];
    const c = await run(node[0], [...node.slice(1), '--task', 'chest', chest, photo], { maxBuffer: 1 << 22 });
    const lines = c.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      gateVerdict: 'ACCEPTED',
      warning: expect.stringMatching(/AI assistance/),
    });
    expect(Object.keys(lines[0].probabilities).sort()).toEqual(['NORMAL', 'PNEUMONIA', 'TUBERCULOSIS']);
    expect(lines[1].probabilities).toBeNull();
    const w = await run(node[0], [...node.slice(1), '--task', 'wrist', chest, chest], { maxBuffer: 1 << 22 });
    expect(w.stdout.trim().split('\n')).toHaveLength(1);
    await expect(run(node[0], [...node.slice(1), '--task', 'wrist', chest])).rejects.toMatchObject({
      code: 2,
    });
  }, 120_000);
});
