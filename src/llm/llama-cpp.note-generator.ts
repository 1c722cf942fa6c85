import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { NoteBackendError } from '../errors';
import type { NoteRequest } from '../domain/note/note-facts';
import type { NoteGenerator } from '../domain/note/note-generator';
import { buildNotePrompt } from '../domain/note/note-prompt';

type LlamaModule = typeof import('node-llama-cpp', { with: { 'resolution-mode': 'import' } });
type Llama = Awaited<ReturnType<LlamaModule['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;

/**
 * node-llama-cpp is ESM-only and this package is CommonJS: a `Function`-made `import()` is left alone
 * by tsc and swc (which would turn a plain `import()` into `require`).
 */
const importEsm = new Function('specifier', 'return import(specifier)') as (
  s: string,
) => Promise<LlamaModule>;

/** Settings of the in-process llama.cpp backend. */
export interface LlamaCppNoteGeneratorOptions {
  /** A GGUF model file. */
  modelPath: string;
  /** `false` runs on the CPU; `auto` lets node-llama-cpp pick CUDA, Vulkan or Metal when present. */
  gpu: false | 'auto' | 'cuda' | 'vulkan';
  contextSize: number;
  /**
   * CPU threads of each generation; 0 lets node-llama-cpp choose (all cores). On a shared, busy CPU
   * fewer threads can be far faster, because llama.cpp's threads wait for each other.
   */
  threads: number;
  maxTokens: number;
}

/**
 * Drafts notes with a local GGUF model through node-llama-cpp's prebuilt binaries (never compiled or
 * downloaded at run time). The model loads on first use; drafts run one at a time, each in a fresh
 * context, so one note never sees another's prompt.
 */
export class LlamaCppNoteGenerator implements NoteGenerator {
  readonly name: string;
  private loading: Promise<{ llama: Llama; model: LlamaModel; module: LlamaModule }> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LlamaCppNoteGeneratorOptions) {
    if (!existsSync(options.modelPath)) throw new Error(`NOTE_GGUF_PATH: no file at the configured path`);
    this.name = `llama-cpp:${basename(options.modelPath)}`;
  }

  private load() {
    this.loading ??= (async () => {
      const module = await importEsm('node-llama-cpp');
      const llama = await module.getLlama({
        gpu: this.options.gpu,
        build: 'never',
        usePrebuiltBinaries: true,
        skipDownload: true,
        logLevel: module.LlamaLogLevel.error,
        progressLogs: false,
      });
      const model = await llama.loadModel({ modelPath: this.options.modelPath });
      return { llama, model, module };
    })();
    this.loading.catch(() => (this.loading = null));
    return this.loading;
  }

  generate(request: NoteRequest, onChunk: (text: string) => void, signal: AbortSignal): Promise<string> {
    const run = this.queue.then(() => this.run(request, onChunk, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(
    request: NoteRequest,
    onChunk: (text: string) => void,
    signal: AbortSignal,
  ): Promise<string> {
    signal.throwIfAborted();
    let loaded;
    try {
      loaded = await this.load();
    } catch (error) {
      throw NoteBackendError.unavailable(this.name, 'the GGUF model could not be loaded', undefined, error);
    }
    const { model, module } = loaded;
    const prompt = buildNotePrompt(request);
    const context = await model.createContext({
      contextSize: Math.min(this.options.contextSize, model.trainContextSize),
      ...(this.options.threads > 0 ? { threads: this.options.threads } : {}),
    });
    try {
      const session = new module.LlamaChatSession({
        contextSequence: context.getSequence(),
        systemPrompt: prompt.system,
      });
      const text = await session.prompt(prompt.user, {
        maxTokens: this.options.maxTokens,
        temperature: 0,
        seed: 0,
        signal,
        onTextChunk: onChunk,
      });
      signal.throwIfAborted();
      return text;
    } catch (error) {
      signal.throwIfAborted();
      throw NoteBackendError.unavailable(this.name, 'generation failed', undefined, error);
    } finally {
      await context.dispose();
    }
  }

  async close(): Promise<void> {
    const loaded = await this.loading?.catch(() => null);
    if (!loaded) return;
    await this.queue;
    await loaded.model.dispose();
    await loaded.llama.dispose();
  }
}
