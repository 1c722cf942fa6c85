import { createHash } from 'node:crypto';
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors';
import type { ModelSession, SessionFactory, SessionOptions } from './model-session';
import { loadModelManifest, ModelManifest, Precision } from './model-manifest';

/** A model version could not be loaded (missing or corrupt weights, invalid model.json, wrong graph). */
export class ModelLoadError extends AppError {
  readonly code = 'MODEL_LOAD_FAILED' as const;
  override readonly httpStatus = 503;
}

/**
 * The graph a version runs at `precision`: model.onnx, or its accepted int8 variant (checked against its
 * sha256) with the variant's gate thresholds in the manifest.
 */
async function graphFor(dir: string, manifest: ModelManifest, precision: Precision) {
  const variant = manifest.variants?.int8;
  const fp32 = (precisionNote?: string) => ({
    file: join(dir, 'model.onnx'),
    name: 'model.onnx',
    manifest,
    precision: 'fp32' as Precision,
    precisionNote,
  });
  if (precision !== 'int8') return fp32();
  if (!variant) return fp32('no int8 graph for this version: model.onnx runs');
  if (!variant.accepted)
    return fp32('its int8 graph was not accepted (model.json variants.int8): model.onnx runs');
  const file = join(dir, variant.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new ModelLoadError(`${variant.file} is missing`, { dir }, { cause: error });
  }
  if (createHash('sha256').update(bytes).digest('hex') !== variant.sha256)
    throw new ModelLoadError(`${variant.file} does not match the sha256 in model.json`, { dir });
  return {
    file,
    name: variant.file,
    manifest: { ...manifest, gate: { ...manifest.gate, ...variant.gate } },
    precision: 'int8' as Precision,
    precisionNote: undefined,
  };
}

/** A model version ready to run: its manifest, its session(s) and where it came from. */
export interface LoadedModel {
  dir: string;
  manifest: ModelManifest;
  /** The session with every configured intra-op thread (batches that run alone). */
  session: ModelSession;
  /** Instances that run batches side by side under load (empty: everything runs on `session`). */
  instances: ModelSession[];
  /** The graph that runs: model.onnx (`fp32`) or the accepted int8 variant. */
  precision: Precision;
  /** Why the precision asked for is not the one that runs (no int8 graph, or one not accepted). */
  precisionNote?: string;
}

/** An instance group to load beside the main session (see {@link loadModel}). */
export interface InstanceGroupOptions {
  /** Instances wanted; 1 or fewer loads none. */
  count: number;
  /** Intra-op threads of each instance. */
  intraOpThreads: number;
}

/**
 * Loads `models/<task>/<version>/`: validates model.json, opens model.onnx, and checks that the graph
 * has the inputs and outputs the manifest promises, so a wrong file fails at load time, not per request.
 * With `group`, also opens that many instances (each with `group.intraOpThreads` threads) when the
 * factory runs sessions concurrently and the model runs on the CPU (thread partitioning is a CPU
 * matter); a failed instance releases everything and fails the load.
 *
 * With `precision` `int8`, a version whose model.json has an accepted `variants.int8` runs that graph
 * (checked against its sha256) with the variant's gate thresholds in the manifest it returns; any
 * other version runs model.onnx and says why in `precisionNote`.
 */
export async function loadModel(
  dir: string,
  factory: SessionFactory,
  options: SessionOptions,
  group?: InstanceGroupOptions,
  precision: Precision = 'fp32',
): Promise<LoadedModel> {
  let manifest: ModelManifest;
  try {
    manifest = await loadModelManifest(dir);
  } catch (error) {
    throw new ModelLoadError('model.json is missing or invalid', { dir }, { cause: error });
  }
  const graph = await graphFor(dir, manifest, precision);
  manifest = graph.manifest;
  const { file, name } = graph;
  try {
    await access(file);
    if ((await stat(file)).size === 0) throw new Error('empty file');
  } catch (error) {
    throw new ModelLoadError(`${name} is missing or empty`, { dir }, { cause: error });
  }
  let session: ModelSession;
  try {
    session = await factory.load(file, options);
  } catch (error) {
    throw new ModelLoadError(
      `${name} could not be loaded (corrupt or not an ONNX graph)`,
      { dir },
      { cause: error },
    );
  }
  const missingInputs = manifest.input.names.filter((n) => !session.inputNames.includes(n));
  const missingOutputs = manifest.outputs.map((o) => o.name).filter((n) => !session.outputNames.includes(n));
  if (missingInputs.length || missingOutputs.length) {
    await session.release();
    throw new ModelLoadError(`${name} does not match model.json`, { dir, missingInputs, missingOutputs });
  }
  const instances: ModelSession[] = [];
  if (group && group.count > 1 && factory.concurrentSessions && session.provider === 'cpu') {
    const opened = await Promise.allSettled(
      Array.from({ length: group.count }, () =>
        factory.load(file, {
          ...options,
          executionProviders: ['cpu'],
          intraOpThreads: group.intraOpThreads,
          // Instances run batches back to back under load: let their threads spin between runs.
          stopSpinningAfterRun: false,
        }),
      ),
    );
    for (const o of opened) if (o.status === 'fulfilled') instances.push(o.value);
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      await Promise.allSettled([session, ...instances].map((s) => s.release()));
      throw new ModelLoadError('a model instance could not be loaded', { dir }, { cause: failed.reason });
    }
  }
  return {
    dir,
    manifest,
    session,
    instances,
    precision: graph.precision,
    ...(graph.precisionNote ? { precisionNote: graph.precisionNote } : {}),
  };
}
