import * as ort from 'onnxruntime-node';
import type { ModelSession, SessionFactory, SessionOptions, Tensor, TensorMap } from '../engine';

/** Logger shape this adapter needs. */
interface Log {
  warn(obj: object, msg: string): void;
}

/**
 * onnxruntime-node adapter: the only module that imports the runtime. Providers are tried in the
 * configured order (CUDA / TensorRT exist only in GPU builds of the runtime); when one cannot be used
 * the next is tried and a clear line is logged, ending with CPU.
 */
export class OnnxSessionFactory implements SessionFactory {
  constructor(private readonly log: Log = { warn: () => undefined }) {}

  /** Providers compiled into the installed runtime. */
  static availableProviders(): string[] {
    const list = (
      ort as unknown as { listSupportedBackends?: () => { name: string }[] }
    ).listSupportedBackends?.();
    return list ? list.map((b) => b.name) : ['cpu'];
  }

  async load(modelPath: string, options: SessionOptions): Promise<ModelSession> {
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
        });
        return new OnnxModelSession(session, provider);
      } catch (error) {
        lastError = error;
        if (provider === 'cpu') break;
        this.log.warn(
          { provider, model: modelPath, reason: (error as Error).message.split('\n')[0] },
          `execution provider ${provider} unavailable; falling back`,
        );
      }
    }
    throw lastError;
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

  async run(feeds: TensorMap): Promise<TensorMap> {
    const input: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) input[name] = new ort.Tensor('float32', t.data, t.dims);
    const result = await this.session.run(input);
    const out: TensorMap = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = { data: t.data as Float32Array, dims: [...t.dims] } satisfies Tensor;
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
