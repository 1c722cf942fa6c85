import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the server answers the next requests. */
export type ServerMode =
  | { kind: 'reply'; text: string; whole?: boolean }
  | { kind: 'status'; status: number }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'truncated'; text: string }
  | { kind: 'stream-error' };

/** A request the server received. */
export interface ReceivedRequest {
  path: string;
  authorization: string | undefined;
  body: {
    model: string;
    stream: boolean;
    messages: { role: string; content: string }[];
    max_tokens?: number;
    temperature?: number;
  };
}

/**
 * A real HTTP server that speaks OpenAI's `POST /v1/chat/completions`, as vLLM, llama.cpp's server,
 * Ollama and TGI do: `stream: true` answers with server-sent events (`data: {chunk}` per delta, then
 * `data: [DONE]`), `stream: false` with one JSON completion. `mode` makes it fail in chosen ways.
 */
export class OpenAiCompatibleServer {
  mode: ServerMode = { kind: 'reply', text: 'Hello.' };
  readonly requests: ReceivedRequest[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly abortWaiters: (() => void)[] = [];
  /** Requests whose client went away before the answer was complete. */
  abortedRequests = 0;

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Resolves when the next request is abandoned by its client (it closes before the answer ends). */
  nextAbort(): Promise<void> {
    return new Promise((resolve) => this.abortWaiters.push(resolve));
  }

  /** Listens on a free port of 127.0.0.1. */
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** Base URL up to `/v1`. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Stops, cutting hanging connections. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    res.on('close', () => {
      if (res.writableEnded) return;
      this.abortedRequests++;
      this.abortWaiters.splice(0).forEach((resolve) => resolve());
    });
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedRequest['body'];
    this.requests.push({ path: req.url, authorization: req.headers.authorization, body });
    const mode = this.mode;
    const id = `chatcmpl-${this.requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model: body.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      })}\n\n`;
    const pieces = (text: string) => text.match(/\S+\s*/g) ?? [];

    if (mode.kind === 'status') {
      res
        .writeHead(mode.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'backend overloaded', type: 'server_error' } }));
      return;
    }
    if (!body.stream) {
      if (mode.kind === 'hang') return;
      if (mode.kind === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [');
        return;
      }
      const text = mode.kind === 'reply' || mode.kind === 'truncated' ? mode.text : '';
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 10, completion_tokens: pieces(text).length, total_tokens: 10 },
        }),
      );
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(chunk({ role: 'assistant', content: '' }));
    switch (mode.kind) {
      case 'reply':
        for (const piece of mode.whole ? [mode.text] : pieces(mode.text))
          res.write(chunk({ content: piece }));
        res.write(chunk({}, 'stop'));
        res.end('data: [DONE]\n\n');
        return;
      case 'truncated':
        for (const piece of pieces(mode.text).slice(0, 3)) res.write(chunk({ content: piece }));
        res.end();
        return;
      case 'malformed':
        res.write(chunk({ content: 'The ' }));
        res.end('data: {"choices": [{"delta": {"content": "progr\n\n');
        return;
      case 'stream-error':
        res.write(chunk({ content: 'The ' }));
        res.end(`data: ${JSON.stringify({ error: { message: 'out of memory', code: 500 } })}\n\n`);
        return;
      case 'hang':
        res.write(chunk({ content: 'The ' }));
        return;
    }
  }
}
