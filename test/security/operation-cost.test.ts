/**
 * M4, rate limits that counted requests, not operations. Regressions: 30 aliased `analyzeStudy` in
 * one request ran 30 analyses for one unit of the rate budget; a 3.9 MB document held the event loop
 * 2.3 s in the parser, which had no token limit. The budget is now charged per root field (aliases
 * included), and the parser stops at GRAPHQL_MAX_TOKENS, over HTTP and WebSocket alike.
 */
import { randomUUID } from 'node:crypto';
import { Role } from '../../src/domain/enums';
import { connectWs, subscribe } from '../support/graphql-ws-client';
import type { TestApp } from '../support/test-app';
import { startLightApp } from './light-app';

let t: TestApp;

beforeAll(async () => {
  t = await startLightApp({ RATE_LIMIT_PER_MINUTE: '40' });
});
afterAll(async () => t?.stop());

async function post(token: string, query: string) {
  const res = await fetch(`${t.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
  return { status: res.status, data: body.data, codes: (body.errors ?? []).map((e) => e.extensions?.code) };
}

describe('the rate budget is charged by operation cost', () => {
  it('counts 30 aliased analyzeStudy as 30: a second such request is refused before it runs', async () => {
    const radiologist = await t.tokenFor(Role.RADIOLOGIST);
    const thirty = `mutation { ${Array.from({ length: 30 }, (_, i) => `a${i}: analyzeStudy(studyId: "${randomUUID()}") { id }`).join(' ')} }`;
    const first = await post(radiologist, thirty);
    expect(first.status).toBe(200);
    // It ran (mutations run in order; the first unknown study ends it): 30 of the 40 units are spent.
    expect(first.codes).toEqual(['NOT_FOUND']);
    const second = await post(radiologist, thirty);
    expect(second.status).toBe(429);
    expect(second.codes).toEqual(['RATE_LIMITED']);
    expect(second.data).toBeUndefined();
    // Another token has its own budget (control).
    expect((await post(await t.tokenFor(Role.RADIOLOGIST), '{ me { id } }')).status).toBe(200);
  });
});

describe('the parser stops at GRAPHQL_MAX_TOKENS', () => {
  const aliases = (count: number) =>
    `{ ${Array.from({ length: count }, (_, i) => `a${i}: __typename`).join(' ')} }`;

  it('refuses a 3.9 MB document over HTTP with GRAPHQL_PARSE_FAILED', async () => {
    const doc = aliases(203_000); // 3.95 MB, under the 4 MiB body limit: 609,000 tokens
    expect(doc.length).toBeGreaterThan(3.9e6);
    const res = await post(await t.tokenFor(Role.TECHNICIAN), doc);
    expect([res.status, res.codes]).toEqual([400, ['GRAPHQL_PARSE_FAILED']]);
  });

  it('refuses a 1 MB document over WebSocket with GRAPHQL_PARSE_FAILED', async () => {
    const ws = connectWs(t.app.url, { authorization: `Bearer ${await t.tokenFor(Role.TECHNICIAN)}` });
    try {
      await ws.connected;
      const doc = aliases(52_000); // 0.98 MB, under the 1 MiB message limit: 156,000 tokens
      expect(doc.length).toBeGreaterThan(0.95e6);
      const sub = subscribe(ws.client, doc);
      expect((await sub.waitForErrors()).map((e) => e.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
    } finally {
      await ws.dispose();
    }
  });

  it('still parses an ordinary document (control)', async () => {
    const res = await post(await t.tokenFor(Role.TECHNICIAN), aliases(100));
    expect([res.status, res.codes]).toEqual([200, []]);
  });
});
