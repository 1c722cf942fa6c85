import { execFileSync, type ExecFileSyncOptionsWithStringEncoding } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../inference/model-loader';
import type { ModelManifest } from '../inference/model-manifest';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import { LocalTrainerRunner, runPython, TRAINER_DIR } from './trainer-runner';

/** Git revision of the working tree, marked dirty when the trainer's code has changes. */
export function codeVersion(): string {
  try {
    const quiet: ExecFileSyncOptionsWithStringEncoding = {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    };
    const rev = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], quiet).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src/training'], quiet).trim();
    return dirty ? `${rev}-dirty` : rev;
  } catch {
    return 'unknown';
  }
}

/** The version folder already holds a model and the caller did not ask to overwrite it. */
export class ModelFolderTakenError extends Error {
  constructor(readonly dir: string) {
    super(`${dir} already holds a model; choose another --version or pass --force`);
    this.name = 'ModelFolderTakenError';
  }
}

/** Inputs of {@link trainModel}. */
export interface TrainModelOptions {
  task: 'chest' | 'wrist';
  version: string;
  /** Model repository root; the model is written to `<modelsDir>/<task>/<version>/`. */
  modelsDir: string;
  epochs?: number;
  timeBudgetMin?: number;
  /** A few batches only: checks that the pipeline runs, not a usable model. */
  smoke?: boolean;
  /** Overwrite a model already in the version folder. */
  force?: boolean;
  /** Progress lines (the manifest builder's and the trainer's output). */
  onLine?: (line: string) => void;
}

/** A model trained and checked by {@link trainModel}. */
export interface TrainedModel {
  /** Folder holding model.onnx, model.json and manifest.csv. */
  outDir: string;
  manifest: ModelManifest;
  /** sha256 of the dataset manifest (manifest.csv) it was trained on. */
  manifestSha256: string;
  startedAt: Date;
}

/**
 * Trains a model version from the shared data (`npm run train`): builds the patient-grouped dataset
 * manifest (the trainer's data module), runs the PyTorch trainer here (Debian python3-torch), then
 * checks that the exported model loads in onnxruntime-node and that its model.json validates.
 * Throws {@link ModelFolderTakenError} when the folder holds a model and `force` is not set.
 */
export async function trainModel(o: TrainModelOptions): Promise<TrainedModel> {
  const onLine = o.onLine ?? (() => undefined);
  const outDir = join(o.modelsDir, o.task, o.version);
  if (existsSync(join(outDir, 'model.onnx')) && !o.force) throw new ModelFolderTakenError(outDir);
  mkdirSync(outDir, { recursive: true });
  const manifest = join(outDir, 'manifest.csv');
  const startedAt = new Date();
  onLine(`building manifest ${manifest}`);
  await runPython([join(TRAINER_DIR, 'build_manifest.py'), '--task', o.task, '--out', manifest], onLine);
  const manifestSha256 = createHash('sha256').update(readFileSync(manifest)).digest('hex');
  onLine(`manifest sha256 ${manifestSha256}`);
  await new LocalTrainerRunner().run(
    {
      task: o.task,
      manifest,
      outDir,
      version: o.version,
      epochs: o.epochs,
      timeBudgetMin: o.timeBudgetMin,
      extraArgs: o.smoke ? ['--smoke'] : [],
    },
    onLine,
  );
  const model = await loadModel(outDir, new OnnxSessionFactory(), { executionProviders: ['cpu'] });
  await model.session.release();
  onLine(
    `model ${model.manifest.name}@${model.manifest.version} loads in onnxruntime-node; manifest ${model.manifest.trainingData.manifestSha256}`,
  );
  return { outDir, manifest: model.manifest, manifestSha256, startedAt };
}
