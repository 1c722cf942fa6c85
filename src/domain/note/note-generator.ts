import type { NoteRequest } from './note-facts';

/**
 * Port of every note backend (deterministic template, OpenAI-compatible HTTP, node-llama-cpp). A
 * generator drafts text only; the note service runs the same safety checks on every draft.
 */
export interface NoteGenerator {
  /** Stored with each note, e.g. `template`, `openai:llama3.1`, `llama-cpp:model.gguf`. */
  readonly name: string;
  /**
   * Drafts a note, calling `onChunk` with each piece of text as it is produced, and resolves with the
   * whole text. Rejects with a {@link NoteBackendError} when the backend fails; stops when `signal` aborts.
   */
  generate(request: NoteRequest, onChunk: (text: string) => void, signal: AbortSignal): Promise<string>;
  /** Releases models, sockets and threads. */
  close(): Promise<void>;
}
