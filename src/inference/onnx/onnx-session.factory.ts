import * as ort from 'onnxruntime-node';
import type { ModelSession, SessionFactory, SessionOptions, Tensor, TensorMap } from '../model-session';

/** Logger shape the onnxruntime adapters need (a pino logger, or a forwarder inside a worker thread). */
export interface ProviderLog {
  warn(obj: object, msg: string): void;
}

/**
 * Creates an onnxruntime session, trying providers in the configured order (CUDA / TensorRT exist only
 * in GPU builds of the runtime); when one cannot be used the next is tried and a clear line is logged,
 * ending with CPU. Shared by {@link OnnxSessionFactory} (event loop) and the session worker thread
 * (`onnx-session.worker.ts`), so both load models the same way.
 *
 * @returns the session and the provider it really runs on
 * @throws the runtime's own Error when even CPU cannot load the model (missing or corrupt file)
 */
export async function createOrtSession(
  modelPath: string,
  options: SessionOptions,
  log: ProviderLog,
): Promise<{ session: ort.InferenceSession; provider: string }> {
  const order = [...options.executionProviders.filter((p) => p !== 'cpu'), 'cpu'];
  let lastError: unknown;
  for (const provider of order) {
    try {
      const session = await ort.InferenceSession.create(modelPath, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
        interOpNumThreads: 1,
        executionMode: 'sequential',
        extra: {
          session: {
            intra_op: { allow_spinning: options.spinWait ? '1' : '0' },
            ...(options.spinWait && options.stopSpinningAfterRun ? { force_spinning_stop: '1' } : {}),
          },
        },
      });
      return { session, provider };
    } catch (error) {
      lastError = error;
      if (provider === 'cpu') break;
      log.warn(
        { provider, model: modelPath, reason: (error as Error).message.split('\n')[0] },
        `execution provider ${provider} unavailable; falling back`,
      );
    }
  }
  throw lastError;
}

/** Runs one session on port tensors: feeds wrapped as runtime tensors, outputs unwrapped. */
export async function runOrtSession(session: ort.InferenceSession, feeds: TensorMap): Promise<TensorMap> {
  const input: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor('float32', t.data, t.dims);
  const result = await session.run(input);
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(result)) {
    out[name] = { data: t.data as Float32Array, dims: [...t.dims] } satisfies Tensor;
  }
  return out;
}

/**
 * onnxruntime-node adapter that runs sessions on the calling (event-loop) thread. onnxruntime-node 1.30
 * executes `session.run` synchronously on that thread, so a large batch stalls HTTP meanwhile; the
 * product uses `WorkerSessionFactory` unless `ENGINE_SESSION_THREAD=main`. CLIs and tests keep this one.
 */
export class OnnxSessionFactory implements SessionFactory {
  constructor(private readonly log: ProviderLog = { warn: () => undefined }) {}

  /** Providers compiled into the installed runtime. */
  static availableProviders(): string[] {
    const list = (
      ort as unknown as { listSupportedBackends?: () => { name: string }[] }
    ).listSupportedBackends?.();
    return list ? list.map((b) => b.name) : ['cpu'];
  }

  async load(modelPath: string, options: SessionOptions): Promise<ModelSession> {
    const { session, provider } = await createOrtSession(modelPath, options, this.log);
    return new OnnxModelSession(session, provider);
  }
}

class OnnxModelSession implements ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: string,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  run(feeds: TensorMap): Promise<TensorMap> {
    return runOrtSession(this.session, feeds);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
