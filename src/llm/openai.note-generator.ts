import { NoteBackendError } from '../errors';
import type { NoteRequest } from '../domain/note/note-facts';
import type { NoteGenerator } from '../domain/note/note-generator';
import { buildNotePrompt } from '../domain/note/note-prompt';

/** Settings of an OpenAI-compatible chat completions endpoint (vLLM, llama.cpp server, Ollama, TGI). */
export interface OpenAiNoteGeneratorOptions {
  /** Base URL up to and including `/v1`, e.g. `http://localhost:8000/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string | null;
  /** Stream tokens with server-sent events (default) or wait for the whole completion. */
  stream: boolean;
  maxTokens: number;
}

/** Longest draft accepted from a backend, in characters (a runaway generation is refused). */
const MAX_CHARS = 20_000;

interface ChatChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  error?: { message?: string };
}

interface ChatCompletion {
  choices?: { message?: { content?: string | null } }[];
}

/**
 * Drafts notes through `POST {baseUrl}/chat/completions`, the protocol vLLM, llama.cpp's server, Ollama
 * and TGI expose, so a hospital can self-host the model. Streams with SSE (`data: {chunk}` lines ending
 * with `data: [DONE]`) or reads one JSON completion. A non-2xx answer, a stream that ends early or a body
 * that is not a completion is a {@link NoteBackendError}; no draft comes out of it.
 */
export class OpenAiNoteGenerator implements NoteGenerator {
  readonly name: string;

  constructor(private readonly options: OpenAiNoteGeneratorOptions) {
    this.name = `openai:${options.model}`;
  }

  async generate(
    request: NoteRequest,
    onChunk: (text: string) => void,
    signal: AbortSignal,
  ): Promise<string> {
    const prompt = buildNotePrompt(request);
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: this.options.stream ? 'text/event-stream' : 'application/json',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: this.options.model,
          messages: [
            { role: 'system', content: prompt.system },
            { role: 'user', content: prompt.user },
          ],
          stream: this.options.stream,
          temperature: 0,
          max_tokens: this.options.maxTokens,
        }),
        signal,
      });
    } catch (error) {
      signal.throwIfAborted();
      throw NoteBackendError.unavailable(this.name, 'could not connect', undefined, error);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw NoteBackendError.unavailable(this.name, `HTTP ${response.status}`, response.status);
    }
    return this.options.stream
      ? this.readStream(response, onChunk, signal)
      : this.readCompletion(response, onChunk, signal);
  }

  private async readCompletion(
    response: Response,
    onChunk: (text: string) => void,
    signal: AbortSignal,
  ): Promise<string> {
    let body: ChatCompletion;
    try {
      body = (await response.json()) as ChatCompletion;
    } catch (error) {
      signal.throwIfAborted();
      throw NoteBackendError.malformed(this.name, 'the body is not JSON', error);
    }
    const content = body?.choices?.[0]?.message?.content;
    if (typeof content !== 'string')
      throw NoteBackendError.malformed(this.name, 'no choices[0].message.content');
    if (content.length > MAX_CHARS) throw NoteBackendError.malformed(this.name, 'the completion is too long');
    onChunk(content);
    return content;
  }

  private async readStream(
    response: Response,
    onChunk: (text: string) => void,
    signal: AbortSignal,
  ): Promise<string> {
    if (!response.body) throw NoteBackendError.malformed(this.name, 'no body');
    const decoder = new TextDecoder();
    let buffer = '';
    let text = '';
    let finished = false;
    const handleEvent = (data: string) => {
      if (data === '[DONE]') {
        finished = true;
        return;
      }
      let chunk: ChatChunk;
      try {
        chunk = JSON.parse(data) as ChatChunk;
      } catch (error) {
        throw NoteBackendError.malformed(this.name, 'a stream event is not JSON', error);
      }
      if (chunk.error) throw NoteBackendError.unavailable(this.name, 'the stream reported an error');
      if (!Array.isArray(chunk.choices))
        throw NoteBackendError.malformed(this.name, 'a stream event has no choices');
      const piece = chunk.choices[0]?.delta?.content;
      if (typeof piece === 'string' && piece.length) {
        text += piece;
        if (text.length > MAX_CHARS)
          throw NoteBackendError.malformed(this.name, 'the completion is too long');
        onChunk(piece);
      }
    };
    try {
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(bytes, { stream: true });
        let boundary: number;
        while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, '');
          const data = block
            .split(/\r?\n/)
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).replace(/^ /, ''))
            .join('\n');
          if (data) handleEvent(data);
          if (finished) break;
        }
        if (finished) break;
      }
    } catch (error) {
      signal.throwIfAborted();
      if (error instanceof NoteBackendError) throw error;
      throw NoteBackendError.unavailable(this.name, 'the stream broke off', undefined, error);
    } finally {
      if (finished) await response.body.cancel().catch(() => undefined);
    }
    if (!finished) throw NoteBackendError.malformed(this.name, 'the stream ended without [DONE]');
    return text;
  }

  async close(): Promise<void> {}
}
