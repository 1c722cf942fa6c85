import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors';
import type { ModelSession, SessionFactory, SessionOptions } from './engine';
import { loadModelManifest, ModelManifest } from './model-manifest';

/** A model version could not be loaded (missing or corrupt weights, invalid model.json, wrong graph). */
export class ModelLoadError extends AppError {
  readonly code = 'MODEL_LOAD_FAILED' as const;
  override readonly httpStatus = 503;
}

/** A model version ready to run: its manifest, its session and where it came from. */
export interface LoadedModel {
  dir: string;
  manifest: ModelManifest;
  session: ModelSession;
}

/**
 * Loads `models/<task>/<version>/`: validates model.json, opens model.onnx, and checks that the graph
 * has the inputs and outputs the manifest promises, so a wrong file fails at load time, not per request.
 */
export async function loadModel(
  dir: string,
  factory: SessionFactory,
  options: SessionOptions,
): Promise<LoadedModel> {
  let manifest: ModelManifest;
  try {
    manifest = await loadModelManifest(dir);
  } catch (error) {
    throw new ModelLoadError('model.json is missing or invalid', { dir }, { cause: error });
  }
  const file = join(dir, 'model.onnx');
  try {
    await access(file);
    if ((await stat(file)).size === 0) throw new Error('empty file');
  } catch (error) {
    throw new ModelLoadError('model.onnx is missing or empty', { dir }, { cause: error });
  }
  let session: ModelSession;
  try {
    session = await factory.load(file, options);
  } catch (error) {
    throw new ModelLoadError(
      'model.onnx could not be loaded (corrupt or not an ONNX graph)',
      { dir },
      { cause: error },
    );
  }
  const missingInputs = manifest.input.names.filter((n) => !session.inputNames.includes(n));
  const missingOutputs = manifest.outputs.map((o) => o.name).filter((n) => !session.outputNames.includes(n));
  if (missingInputs.length || missingOutputs.length) {
    await session.release();
    throw new ModelLoadError('model.onnx does not match model.json', { dir, missingInputs, missingOutputs });
  }
  return { dir, manifest, session };
}
