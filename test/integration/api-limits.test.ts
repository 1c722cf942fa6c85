/**
 * Edges of the API: query depth and cost limits, page and cursor validation, input validation, body
 * parsing and size, NOT_FOUND and CONFLICT, rate limiting, and cursor pagination without gaps.
 */
import { randomUUID } from 'node:crypto';
import { Role } from '../../src/domain/enums';
import { connectWs, subscribe } from '../support/graphql-ws-client';
import { startTestApp, TestApp } from '../support/test-app';

let t: TestApp;
let tech: string;

const codes = (errors?: { extensions?: { code?: string } }[]) =>
  (errors ?? []).map((e) => e.extensions?.code);

beforeAll(async () => {
  t = await startTestApp();
  tech = await t.tokenFor(Role.TECHNICIAN);
});
afterAll(async () => t?.stop());

/** `{ studies { edges { node { patient { studies { ... } } } } } }` with `levels` study→patient hops. */
function nested(levels: number, first = 1): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++)
    inner = `studies(first: ${first}) { edges { node { patient { ${inner} } } } }`;
  return `{ patient(id: "${randomUUID()}") { ${inner} } }`;
}

describe('query complexity', () => {
  it('accepts a query at the depth limit and rejects one beyond it with QUERY_TOO_COMPLEX', async () => {
    const max = t.app.config.limits.graphqlMaxDepth;
    // patient{ } is depth 1; each hop adds studies, edges, node, patient = 4 levels.
    const hopsWithin = Math.floor((max - 1) / 4);
    const within = await t.gql(tech, nested(hopsWithin));
    expect(codes(within.errors)).toEqual(['NOT_FOUND']);

    const beyond = await t.gql(tech, nested(hopsWithin + 1));
    expect(beyond.status).toBe(400);
    expect(codes(beyond.errors)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(beyond.data).toBeUndefined();
  });

  it('rejects a query whose cost exceeds the limit with QUERY_TOO_COMPLEX, before running it', async () => {
    const { graphqlMaxCost, pageMax } = t.app.config.limits;
    const cheap = await t.gql(tech, `{ studies(first: ${pageMax}) { edges { node { id images { id } } } } }`);
    expect(codes(cheap.errors)).toEqual([]);
    const wide = `{ studies(first: ${pageMax}) { edges { node { id patient { studies(first: ${pageMax}) { edges { node { id images { id view } } } } } } } } }`;
    const res = await t.gql(tech, wide);
    expect(res.status).toBe(400);
    expect(codes(res.errors)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(Number(res.errors![0].extensions!.details!.cost)).toBeGreaterThan(graphqlMaxCost);
  });

  it('counts fragments: the same deep query hidden in a fragment is rejected too', async () => {
    const max = t.app.config.limits.graphqlMaxDepth;
    const hops = Math.floor((max - 1) / 4) + 1;
    const deep = nested(hops).replace(
      /^\{ patient\(id: ("[^"]+")\) \{ (.*) \} \}$/,
      'query { patient(id: $1) { ...P } } fragment P on Patient { $2 }',
    );
    expect(deep).toContain('fragment P on Patient');
    expect(codes((await t.gql(tech, deep)).errors)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('applies the same limits to subscriptions over graphql-ws (regression: WebSocket skipped the rule)', async () => {
    const max = t.app.config.limits.graphqlMaxDepth;
    let inner = 'id';
    for (let i = 0; i < Math.floor(max / 4) + 1; i++)
      inner = `patient { studies(first: 1) { edges { node { ${inner} } } } }`;
    const ws = connectWs(t.app.url, { authorization: `Bearer ${tech}` });
    try {
      await ws.connected;
      const deep = subscribe(ws.client, `subscription { studyEvents { study { ${inner} } } }`);
      expect(codes(await deep.waitForErrors())).toEqual(['QUERY_TOO_COMPLEX']);
      const { pageMax } = t.app.config.limits;
      const wide = subscribe(
        ws.client,
        `subscription { studyEvents { study { patient { studies(first: ${pageMax}) { edges { node { patient { studies(first: ${pageMax}) { totalCount } } } } } } } } }`,
      );
      expect(codes(await wide.waitForErrors())).toEqual(['QUERY_TOO_COMPLEX']);
    } finally {
      await ws.dispose();
    }
  });
});

describe('arguments and input', () => {
  it('rejects `first` above the page maximum with BAD_USER_INPUT', async () => {
    const max = t.app.config.limits.pageMax;
    expect(codes((await t.gql(tech, `{ patients(first: ${max}) { totalCount } }`)).errors)).toEqual([]);
    expect(codes((await t.gql(tech, `{ patients(first: ${max + 1}) { totalCount } }`)).errors)).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes((await t.gql(tech, '{ patients(first: -1) { totalCount } }')).errors)).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it.each([
    'garbage',
    Buffer.from('2026-01-01T00:00:00.000Z|not-an-id').toString('base64url'),
    Buffer.from('yesterday|' + randomUUID()).toString('base64url'),
  ])('rejects the invalid cursor %s with BAD_USER_INPUT', async (after) => {
    const res = await t.gql(tech, 'query($a: String) { patients(first: 5, after: $a) { totalCount } }', {
      a: after,
    });
    expect(codes(res.errors)).toEqual(['BAD_USER_INPUT']);
  });

  it.each<[string, Record<string, unknown>]>([
    ['an MRN with spaces', { mrn: 'MRN 1' }],
    ['an empty MRN', { mrn: '' }],
    ['a birth date with month 13', { birthDate: '1980-13-45' }],
    ['a birth date that is not a date', { birthDate: 'yesterday' }],
    ['a birth date that does not exist (31 February)', { birthDate: '1980-02-31' }],
    ['an empty given name', { givenName: '' }],
  ])('rejects %s with BAD_USER_INPUT and stores nothing', async (_label, change) => {
    const input = { mrn: `MRN-${randomUUID().slice(0, 8)}`, givenName: 'A', familyName: 'B', ...change };
    const res = await t.gql(tech, 'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }', {
      i: input,
    });
    expect(codes(res.errors)).toEqual(['BAD_USER_INPUT']);
    const found = await t.gql<{ patients: { totalCount: number } }>(
      tech,
      'query($m: String) { patients(filter: {mrn: $m}) { totalCount } }',
      { m: String(input.mrn) },
    );
    expect(found.data!.patients.totalCount).toBe(0);
  });

  it('accepts a leap day as birth date (control for the calendar check)', async () => {
    const res = await t.gql<{ createPatient: { birthDate: string } }>(
      tech,
      'mutation { createPatient(input: {mrn: "LEAP-1", givenName: "A", familyName: "B", birthDate: "1980-02-29"}) { birthDate } }',
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.createPatient.birthDate).toBe('1980-02-29');
  });

  it('answers NOT_FOUND for an unknown id, and for an id that is not a UUID', async () => {
    for (const id of [randomUUID(), 'nope']) {
      expect(codes((await t.gql(tech, 'query($id: ID!) { study(id: $id) { id } }', { id })).errors)).toEqual([
        'NOT_FOUND',
      ]);
      expect(
        codes(
          (
            await t.gql(
              tech,
              'mutation($id: ID!) { updatePatient(id: $id, input: {givenName: "X"}) { id } }',
              { id },
            )
          ).errors,
        ),
      ).toEqual(['NOT_FOUND']);
    }
  });

  it('answers CONFLICT for a duplicate MRN and a duplicate accession number', async () => {
    const create =
      'mutation { createPatient(input: {mrn: "DUP-1", givenName: "A", familyName: "B"}) { id } }';
    const first = await t.gql<{ createPatient: { id: string } }>(tech, create);
    expect(first.errors).toBeUndefined();
    expect(codes((await t.gql(tech, create)).errors)).toEqual(['CONFLICT']);
    const study =
      'mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: "DUP-ACC"}) { id } }';
    const p = { p: first.data!.createPatient.id };
    expect((await t.gql(tech, study, p)).errors).toBeUndefined();
    expect(codes((await t.gql(tech, study, p)).errors)).toEqual(['CONFLICT']);
  });
});

describe('request bodies', () => {
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${t.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tech}`, ...headers },
      body,
    });

  it('answers a malformed JSON body with HTTP 400', async () => {
    const res = await post('{"query": "{ patients { totalCount } }"');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(codes(body.errors)).toEqual(['BAD_REQUEST']);
  });

  it('answers an oversized body with HTTP 413 PAYLOAD_TOO_LARGE', async () => {
    const padding = 'x'.repeat(5 * 1024 * 1024);
    const res = await post(JSON.stringify({ query: '{ patients { totalCount } }', variables: { padding } }));
    expect(res.status).toBe(413);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(codes(body.errors)).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it('still serves the same connection-less client after those (control)', async () => {
    const res = await post(JSON.stringify({ query: '{ patients(first: 1) { totalCount } }' }));
    expect(res.status).toBe(200);
  });
});

describe('pagination', () => {
  it('pages 25 patients as 10, 10 and 5 with cursors, no duplicates or gaps, totalCount 25', async () => {
    const seeded = new Set<string>();
    for (let i = 0; i < 25; i++) {
      const res = await t.gql<{ createPatient: { id: string } }>(
        tech,
        'mutation($m: String!) { createPatient(input: {mrn: $m, givenName: "P", familyName: "Pagewise"}) { id } }',
        {
          m: `PAGE-${String(i).padStart(2, '0')}`,
        },
      );
      seeded.add(res.data!.createPatient.id);
    }
    type Conn = {
      patients: {
        totalCount: number;
        edges: { cursor: string; node: { id: string } }[];
        pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
      };
    };
    const Q = `query($after: String) { patients(first: 10, after: $after, filter: {familyNamePrefix: "Pagewise"}) {
      totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
    const seen: string[] = [];
    const sizes: number[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res: Awaited<ReturnType<typeof t.gql<Conn>>> = await t.gql<Conn>(tech, Q, { after });
      expect(res.errors).toBeUndefined();
      const c = res.data!.patients;
      expect(c.totalCount).toBe(25);
      expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
      sizes.push(c.edges.length);
      seen.push(...c.edges.map((e) => e.node.id));
      if (c.edges.length) expect(c.pageInfo.endCursor).toBe(c.edges[c.edges.length - 1].cursor);
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(sizes).toEqual([10, 10, 5]);
    expect(new Set(seen).size).toBe(25);
    expect(new Set(seen)).toEqual(seeded);
  });
});

describe('rate limiting', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => limited?.stop());

  it('answers RATE_LIMITED with HTTP 429 and retry-after after RATE_LIMIT_PER_MINUTE requests of one token', async () => {
    const token = await limited.tokenFor(Role.RADIOLOGIST);
    const call = () =>
      fetch(`${limited.app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ patients(first: 1) { totalCount } }' }),
      });
    for (let i = 0; i < 5; i++) {
      const ok = await call();
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    }
    const res = await call();
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(codes(body.errors)).toEqual(['RATE_LIMITED']);

    const other = await limited.tokenFor(Role.RADIOLOGIST);
    expect((await limited.gql(other, '{ patients(first: 1) { totalCount } }')).status).toBe(200);
  });
});
