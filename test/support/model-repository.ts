import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { resolveModelDir } from '../../src/inference/model-repository';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ModelStage, ModelTask, TrainingRunStatus } from '../../src/domain/enums';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { TrainingRun } from '../../src/domain/training-run/training-run.entity';

/** The committed chest model every test version points at. */
export const CHEST_V1 = resolve(__dirname, '..', '..', 'models', 'chest', 'v1');

const MODELS = resolve(__dirname, '..', '..', 'models');

/**
 * The version of `task` the registry makes PRODUCTION on a fresh install from the committed models (the
 * newest that did not fail its promotion gate: `resolveModelDir`). Suites that read through the default
 * repository name it instead of a literal, so promoting a new version does not break them.
 */
export async function shippedVersion(task: 'chest' | 'wrist'): Promise<string> {
  return basename(await resolveModelDir(MODELS, task));
}

/** True when the committed chest model is present. */
export const chestModelAvailable = (): boolean => existsSync(join(CHEST_V1, 'model.onnx'));

/** A temporary model repository whose chest versions are links to the committed chest model. */
export function chestRepository(versions: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'cc-models-'));
  mkdirSync(join(dir, 'chest'));
  for (const v of versions) addChestVersion(dir, v);
  return dir;
}

/** Adds `chest/<version>` (a link to the committed weights) to a repository; returns its folder. */
export function addChestVersion(dir: string, version: string): string {
  const target = join(dir, 'chest', version);
  symlinkSync(CHEST_V1, target);
  return target;
}

/** Adds `chest/<version>` with a valid model.json but weights that are not an ONNX graph. */
export function addBrokenChestVersion(dir: string, version: string): string {
  const target = join(dir, 'chest', version);
  mkdirSync(target);
  copyFileSync(join(CHEST_V1, 'model.json'), join(target, 'model.json'));
  writeFileSync(join(target, 'model.onnx'), Buffer.from('not an onnx graph'));
  return target;
}

/**
 * Registers a version as STAGING with its training run, the way the trainer's --register does (the
 * registry reads what it wrote); returns the new version.
 */
export async function registerStaging(
  em: EntityManager,
  opts: { version: string; dir: string; parent?: ModelVersion | null; gateVerdict?: Record<string, unknown> },
): Promise<ModelVersion> {
  const run = Object.assign(new TrainingRun(), {
    task: ModelTask.CHEST,
    status: TrainingRunStatus.SUCCEEDED,
    parameters: { epochs: 3, lr: 0.001, corrections: 12 },
    codeVersion: 'abc1234',
    manifestSha256: 'f'.repeat(64),
    datasetCounts: { train: { NORMAL: 10, PNEUMONIA: 12 }, test: { NORMAL: 5 } },
    metrics: { aurocPerClass: { PNEUMONIA: { value: 0.9 } } },
    gateVerdict: opts.gateVerdict ?? null,
    startedAt: new Date('2026-11-23T10:00:00Z'),
    finishedAt: new Date('2026-11-23T10:02:30Z'),
  });
  const version = Object.assign(new ModelVersion(), {
    task: ModelTask.CHEST,
    version: opts.version,
    stage: ModelStage.STAGING,
    artifactPath: opts.dir,
    manifestSha256: 'f'.repeat(64),
    metrics: { aurocPerClass: { PNEUMONIA: { value: 0.9 } } },
    parent: opts.parent ?? null,
    trainingRun: run,
  });
  em.persist([run, version]);
  await em.flush();
  return version;
}
