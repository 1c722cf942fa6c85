/**
 * Checks a shipped model version's suite runs against its own files: the input gate's verdicts through the
 * server's decode → preprocess → onnxruntime path, and TypeScript-vs-PyTorch parity of the logits.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeImage } from '../../src/imaging';
import { loadModel, type LoadedModel } from '../../src/inference/model-loader';
import type { Precision } from '../../src/inference/model-manifest';
import { OnnxSessionFactory } from '../../src/inference/onnx/onnx-session.factory';
import { RadiographReader } from '../../src/inference/radiograph-reader';
import { evaluateModel } from '../../src/training/evaluate-model';
import { PYTHON } from '../../src/training/trainer-runner';

const run = promisify(execFile);
/** What the server accepts in tests of real films (larger than any film in the shared sets). */
export const FILM_LIMITS = { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 };

/**
 * The committed model in `dir`, loaded for a describe block (beforeAll; released afterAll): read `model` and
 * `reader` inside tests and hooks.
 */
export function useModel(
  dir: string,
  precision: Precision = 'fp32',
): { readonly model: LoadedModel; readonly reader: RadiographReader } {
  let model: LoadedModel | undefined;
  let reader: RadiographReader | undefined;
  beforeAll(async () => {
    model = await loadModel(
      dir,
      new OnnxSessionFactory(),
      { executionProviders: ['cpu'] },
      undefined,
      precision,
    );
    reader = RadiographReader.ofModel(model);
  });
  afterAll(() => model?.session.release());
  return {
    get model() {
      return model!;
    },
    get reader() {
      return reader!;
    },
  };
}

/** Gate verdicts of films read one by one as the server reads them (a file that does not decode: UNREADABLE). */
export async function gateVerdicts(reader: RadiographReader, files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const img = await decodeImage(readFileSync(f), FILM_LIMITS).catch(() => null);
    out.push(img ? (await reader.read([[img]]))[0]!.gateVerdict : 'UNREADABLE');
  }
  return out;
}

/** Share of verdicts that satisfy `pred`. */
export const share = (verdicts: string[], pred: (v: string) => boolean): number =>
  verdicts.filter(pred).length / verdicts.length;

/**
 * Largest absolute logit difference per film between the model's ONNX graph (fed by the server's preprocessing)
 * and its PyTorch checkpoint `model.pt` (fed by the trainer's, `predict_logits.py`), and the preprocessing id the
 * checkpoint declares. Single-input models only.
 */
export async function torchParity(
  reader: RadiographReader,
  task: 'chest' | 'wrist',
  dir: string,
  files: string[],
): Promise<{ preprocessing: string; diffs: { file: string; diff: number }[] }> {
  const { stdout } = await run(
    PYTHON,
    [
      'src/training/python/predict_logits.py',
      '--task',
      task,
      '--checkpoint',
      join(dir, 'model.pt'),
      ...files,
    ],
    { maxBuffer: 1 << 24 },
  );
  const python = JSON.parse(stdout) as { preprocessing: string; results: { logits: number[] }[] };
  const diffs = [];
  for (const [i, file] of files.entries()) {
    const tensor = await reader.tensorOf(await decodeImage(readFileSync(file), FILM_LIMITS));
    const [{ reading }] = await reader.readItems([[tensor]]);
    const diff = Math.max(...reading.logits.map((v, k) => Math.abs(v - python.results[i]!.logits[k]!)));
    diffs.push({ file, diff });
  }
  return { preprocessing: python.preprocessing, diffs };
}

/**
 * Runs the TypeScript evaluator over the test split of the model's own manifest.csv and expects model.json's
 * per-class test AUROC and test recall at each shipped threshold (to 2 decimals: 50 resamples, other decoders).
 */
export async function expectEvaluatorReproduces(
  dir: string,
  datasetsRoot: string,
  model: LoadedModel,
): Promise<void> {
  const { report } = await evaluateModel({
    model: dir,
    labels: join(dir, 'manifest.csv'),
    root: datasetsRoot,
    split: 'test',
    resamples: 50,
  });
  const m = model.manifest;
  for (const [c, e] of Object.entries(m.metrics.aurocPerClass)) {
    if (e.value === null) continue;
    expect({ c, auroc: report.aurocPerClass[c]!.value }).toEqual({ c, auroc: expect.closeTo(e.value, 2) });
  }
  for (const [c, t] of Object.entries(m.thresholds)) {
    expect({ c, recall: report.atThresholds[c]!.recall.value }).toEqual({
      c,
      recall: expect.closeTo(t.testRecall as number, 2),
    });
  }
}
