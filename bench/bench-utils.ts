/** Helpers shared by the benchmark scripts. */
import { Agent, request } from 'node:http';

/** Deterministic pseudo-random input (values do not change the compute of a CNN). */
export function randomTensor(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * 2;
  }
  return out;
}

/** Median of a list of numbers. */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Rounds to 2 decimals. */
export const r2 = (x: number): number => Math.round(x * 100) / 100;
/** Rounds to 3 decimals. */
export const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The q-quantile (0..1) of a list of numbers, nearest rank. */
export const quantile = (xs: number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/**
 * One HTTP request over a keep-alive agent of `node:http`, its body read whole: what a load generator
 * needs, at about half the client CPU of `fetch` (WHATWG streams and headers around the same socket).
 * Every arm of a side-by-side bench uses it, so the client's share of a shared machine stays small and
 * equal per request.
 */
export function httpRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, agent: KEEP_ALIVE },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(init.body);
  });
}

/**
 * Sockets kept open between requests, as fetch's pool does; enough for c = 64 to every server at once.
 * An idle one is closed after 4 s, before the servers' own 5 s keep-alive ends, so no request is sent
 * down a socket its server is closing.
 */
const KEEP_ALIVE = new Agent({ keepAlive: true, maxSockets: 256, timeout: 4000 });
