/**
 * Hostile input across the surface: fuzzed and malformed GraphQL documents, bodies that are not
 * UTF-8 or JSON, alias and fragment bombs, deep nesting, batching, introspection abuse, oversized and
 * malformed uploads and DICOM, forged tokens and cross-role attempts. Every answer carries a clear
 * code; none is a 500, none leaks a stack trace, and the server is healthy afterwards.
 */
import { randomUUID } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { Role } from '../../src/domain/enums';
import { createPatient, createStudy } from '../support/clinical-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let t: TestApp;
let tech: string;
let integrator: string;
let radiologist: string;
let admin: string;
let patientId: string;
let studyId: string;

beforeAll(async () => {
  t = await startTestApp({ RATE_LIMIT_PER_MINUTE: '0', MAX_UPLOAD_BYTES: String(256 * 1024) });
  tech = await t.tokenFor(Role.TECHNICIAN);
  integrator = await t.tokenFor(Role.INTEGRATOR);
  radiologist = await t.tokenFor(Role.RADIOLOGIST);
  admin = await t.tokenFor(Role.ADMIN);
  patientId = await createPatient(t, tech);
  studyId = await createStudy(t, tech, patientId, 'CHEST');
});
afterAll(async () => t?.stop());

interface Answer {
  status: number;
  text: string;
  code: string | undefined;
}

/** Sends raw bytes to a path; returns the status, the text and the first error code found. */
async function send(
  path: string,
  body: Buffer | string | undefined,
  headers: Record<string, string> = {},
  token: string | null = tech,
  method = 'POST',
): Promise<Answer> {
  const res = await fetch(`${t.app.url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body,
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    const json = JSON.parse(text) as {
      errors?: { extensions?: { code?: string } }[];
      error?: { code?: string };
    };
    code = json.errors?.[0]?.extensions?.code ?? json.error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, text, code };
}

const gqlBody = (query: string, variables?: unknown) => JSON.stringify({ query, variables });

/** Deliberate codes a hostile request may get; anything else (INTERNAL_SERVER_ERROR above all) fails. */
const CLEAR_CODES = new Set([
  'EMPTY_UPLOAD',
  'CORRUPT_IMAGE',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'NOT_AN_IMAGE',
  'MULTI_FRAME_NOT_SUPPORTED',
  'UPLOAD_TOO_LARGE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'QUERY_TOO_COMPLEX',
  'NOT_FOUND',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'PAYLOAD_TOO_LARGE',
  'OPERATION_RESOLUTION_FAILURE',
  'INVALID_STATE',
  'CONFLICT',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNSUPPORTED_IMAGE',
  'NOT_A_RADIOGRAPH',
  'IMAGE_TOO_LARGE',
]);

/** A clear answer: 2xx with data, or a 4xx (or 200 with errors) carrying a known code; no stack. */
function expectClear(a: Answer, what: string): void {
  const context = `${what}: ${a.status} ${a.text.slice(0, 300)}`;
  expect([context, a.status < 500]).toEqual([context, true]);
  expect([context, /\n\s+at |node_modules|\.ts:\d+|stacktrace/i.test(a.text)]).toEqual([context, false]);
  if (a.status >= 400 || a.code)
    expect([context, a.code && CLEAR_CODES.has(a.code)]).toEqual([context, true]);
}

async function expectHealthy(): Promise<void> {
  const live = await fetch(`${t.app.url}/health/live`);
  expect(live.status).toBe(200);
  const me = await send('/graphql', gqlBody('{ me { id role } }'));
  expect(me.status).toBe(200);
  expect(me.code).toBeUndefined();
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fuzzed GraphQL documents', () => {
  const seeds = [
    `{ me { id role email } }`,
    `query($f: Int) { patients(first: $f) { totalCount edges { cursor node { id mrn studies { id } } } } }`,
    `mutation($i: CreatePatientInput!) { createPatient(input: $i) { id mrn } }`,
    `query Q($s: ID!) { study(id: $s) { id status images { id view } patient { id } } }`,
    `mutation { analyzeStudy(studyId: "${randomUUID()}") { id gateVerdict } }`,
    `subscription { studyEvents { change study { id } } }`,
  ];
  const alphabet =
    '{}()[]:$!@.,"\\ \n#&|=...fragment on query mutation __typename __schema 0123456789\u0000\u00e9\ud83d';

  it('answers ~300 mutated documents with a clear code, never a 500', async () => {
    const random = rng(7);
    let errored = 0;
    for (let n = 0; n < 300; n++) {
      let doc = seeds[n % seeds.length];
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (doc.length + 1));
        const op = random();
        const piece = alphabet[Math.floor(random() * alphabet.length)];
        if (op < 0.3) doc = doc.slice(0, at) + doc.slice(at + 1 + Math.floor(random() * 5));
        else if (op < 0.6) doc = doc.slice(0, at) + piece + doc.slice(at);
        else if (op < 0.8) doc = doc.slice(0, at) + piece + doc.slice(at + 1);
        else doc = doc.slice(0, at) + doc.slice(at, at + 20) + doc.slice(at);
      }
      const variables =
        n % 3 === 0
          ? { f: 'x', i: { mrn: 42 }, s: null }
          : { f: 1, i: { mrn: `FZ-${n}`, givenName: 'Fuzz', familyName: 'Case' }, s: studyId };
      const a = await send('/graphql', gqlBody(doc, variables));
      expectClear(a, `document ${n} ${JSON.stringify(doc)}`);
      if (a.code) errored++;
    }
    // The fuzzer must mostly produce broken documents, or it tests nothing (control).
    expect(errored).toBeGreaterThan(150);
    await expectHealthy();
  });

  it('answers bodies that are not UTF-8 or not JSON, and wrong JSON shapes, with 400', async () => {
    const cases: [string, Buffer | string, Record<string, string>?][] = [
      [
        'invalid UTF-8',
        Buffer.from([0x7b, 0x22, 0x71, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]),
      ],
      ['lone surrogate escape', '{"query":"{ me { id \\ud800 } }"}'],
      ['truncated JSON', '{"query":"{ me { id } }"'],
      ['JSON null', 'null'],
      ['JSON number', '42'],
      ['query is a number', '{"query": 42}'],
      ['variables is a string', '{"query":"{ me { id } }","variables":"x"}'],
      ['empty body', ''],
      ['form encoded', 'query=%7Bme%7Bid%7D%7D', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['text/plain', '{ me { id } }', { 'content-type': 'text/plain' }],
      ['prototype pollution', '{"query":"{ me { id } }","variables":{"__proto__":{"admin":true}}}'],
    ];
    for (const [what, body, headers] of cases) {
      const a = await send('/graphql', body, headers);
      expectClear(a, what);
      expect([what, a.status]).toEqual([what, a.status === 200 ? 200 : expect.any(Number)]);
      if (what !== 'lone surrogate escape' && what !== 'prototype pollution')
        expect([what, a.status >= 400]).toEqual([what, true]);
    }
    await expectHealthy();
  });

  it('refuses batched arrays of operations with 400', async () => {
    const a = await send(
      '/graphql',
      JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]),
    );
    expect(a.status).toBe(400);
    expectClear(a, 'batched array');
  });

  it('refuses an alias bomb, a field-repetition bomb and a directive bomb before running them', async () => {
    const aliases = `{ ${Array.from({ length: 3000 }, (_, i) => `a${i}: patients(first: 100) { totalCount }`).join(' ')} }`;
    const repeat = `{ me { ${'id '.repeat(50_000)} } }`;
    const directives = `{ me { id ${'@include(if: true) '.repeat(5000)} } }`;
    for (const [what, doc] of [
      ['aliases', aliases],
      ['repeated field', repeat],
      ['directives', directives],
    ]) {
      const a = await send('/graphql', gqlBody(doc));
      expectClear(a, what);
      expect([what, a.status]).toEqual([what, 400]);
    }
    await expectHealthy();
  });

  it('refuses fragment cycles and fragment fan-out with a validation code', async () => {
    const cycle = `query { ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }`;
    const self = `query { me { ...U } } fragment U on User { id ...U }`;
    // Each fragment spreads the next one ten times: 10^8 fields once expanded.
    const fanOut =
      'query { ...F0 } ' +
      Array.from(
        { length: 8 },
        (_, i) => `fragment F${i} on Query { ${Array.from({ length: 10 }, () => `...F${i + 1}`).join(' ')} }`,
      ).join(' ') +
      ' fragment F8 on Query { me { id } }';
    for (const [what, doc, code] of [
      ['cycle', cycle, 'GRAPHQL_VALIDATION_FAILED'],
      ['self spread', self, 'GRAPHQL_VALIDATION_FAILED'],
      ['fan-out', fanOut, 'QUERY_TOO_COMPLEX'],
    ]) {
      const started = Date.now();
      const a = await send('/graphql', gqlBody(doc));
      expectClear(a, what);
      expect([what, a.code]).toEqual([what, code]);
      // Not a timing assertion on speed: a bomb that was expanded would take minutes, not seconds.
      expect([what, Date.now() - started < 20_000]).toEqual([what, true]);
    }
    await expectHealthy();
  });

  it('refuses deeply nested selections, lists and input objects without a stack overflow', async () => {
    const braces = `{ me ${'{ id '.repeat(20_000)}${'}'.repeat(20_000)} }`;
    const lists = `{ patients(first: ${'['.repeat(20_000)}1${']'.repeat(20_000)}) { totalCount } }`;
    const deepInput = `{"query":"query($v: CreatePatientInput!) { me { id } }","variables":{"v":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`;
    for (const [what, body] of [
      ['nested braces', gqlBody(braces)],
      ['nested lists', gqlBody(lists)],
      ['nested input JSON', deepInput],
    ]) {
      const a = await send('/graphql', body);
      expectClear(a, what);
      expect([what, a.status]).toEqual([what, 400]);
    }
    await expectHealthy();
  });

  it('bounds introspection: a deep ofType chain is refused, the ordinary one answered', async () => {
    const ordinary = await send(
      '/graphql',
      gqlBody('{ __schema { queryType { name } types { name kind } } }'),
    );
    expect(ordinary.status).toBe(200);
    expect(ordinary.code).toBeUndefined();
    // The introspection query of tools (codegen, GraphiQL) still works.
    const tools = await send('/graphql', gqlBody(getIntrospectionQuery({ descriptions: true })));
    expect([tools.status, tools.code]).toEqual([200, undefined]);
    let ofType = 'name';
    for (let i = 0; i < 40; i++) ofType = `name ofType { ${ofType} }`;
    const deep = await send('/graphql', gqlBody(`{ __schema { types { fields { type { ${ofType} } } } } }`));
    expectClear(deep, 'deep introspection');
    expect(deep.code).toBe('QUERY_TOO_COMPLEX');
    const wide = `{ ${Array.from({ length: 500 }, (_, i) => `s${i}: __schema { types { name fields { name args { name } } } }`).join(' ')} }`;
    const bomb = await send('/graphql', gqlBody(wide));
    expectClear(bomb, 'introspection aliases');
    expect(bomb.code).toBe('QUERY_TOO_COMPLEX');
    await expectHealthy();
  });

  it('refuses huge strings in arguments and an oversized document', async () => {
    const huge = await send(
      '/graphql',
      gqlBody('mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }', {
        i: { mrn: 'M'.repeat(100_000), givenName: 'G'.repeat(1_000_000), familyName: 'F' },
      }),
    );
    expectClear(huge, 'huge strings');
    expect(huge.code).toBe('BAD_USER_INPUT');
    const oversized = await send('/graphql', gqlBody(`{ me { id } } # ${'x'.repeat(8 * 1024 * 1024)}`));
    expect(oversized.status).toBe(413);
    expectClear(oversized, 'oversized document');
    await expectHealthy();
  });

  it('answers an unknown operationName, a mutation over GET and an unknown route with clear codes', async () => {
    const op = await send('/graphql', JSON.stringify({ query: '{ me { id } }', operationName: 'Nope' }));
    expectClear(op, 'unknown operationName');
    expect(op.status).toBe(400);
    const get = await send(
      `/graphql?query=${encodeURIComponent('mutation { deactivateUser(id: "x") { id } }')}`,
      undefined,
      { 'apollo-require-preflight': 'true' },
      tech,
      'GET',
    );
    expectClear(get, 'mutation over GET');
    expect(get.status).toBe(405);
    const route = await send('/../../etc/passwd', undefined, {}, tech, 'GET');
    expect(route.status).toBe(404);
    expectClear(route, 'unknown route');
  });
});

describe('malformed uploads and DICOM', () => {
  const dicomHeader = (tail: Buffer) => Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), tail]);
  // (0002,0010) UI with a declared length far beyond the file.
  const lyingLength = dicomHeader(Buffer.from([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, 0xff, 0x7f, 0x31, 0x2e]));
  // (7FE0,0010) OB pixel data, undefined length, no items, after an implicit VR transfer syntax.
  const pixelsNoItems = dicomHeader(
    Buffer.concat([
      Buffer.from([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, 0x12, 0x00]),
      Buffer.from('1.2.840.10008.1.2\0'),
      Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    ]),
  );
  const cases: [string, Buffer, string][] = [
    ['empty body', Buffer.alloc(0), 'image/png'],
    ['text as PNG', Buffer.from('hello, not an image'), 'image/png'],
    ['PNG signature only', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'image/png'],
    ['JPEG SOI only', Buffer.from([0xff, 0xd8, 0xff]), 'image/jpeg'],
    ['DICM preamble only', dicomHeader(Buffer.alloc(0)), 'application/dicom'],
    ['DICOM with a lying length', lyingLength, 'application/dicom'],
    ['DICOM pixel data without items', pixelsNoItems, 'application/dicom'],
    [
      'random bytes as DICOM',
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
      'application/dicom',
    ],
    ['unknown content type', Buffer.from('x'), 'application/x-msdownload'],
  ];

  it('answers each malformed upload with a clear 4xx code and stores nothing for it', async () => {
    const before = await t.gql<{ images: { totalCount: number } }>(tech, '{ images { totalCount } }');
    for (const [what, bytes, type] of cases) {
      const a = await send('/uploads', bytes, { 'content-type': type });
      expectClear(a, what);
      // An upload that is stored must also be attachable; attaching must then refuse it clearly.
      if (a.status === 201) {
        const uploadId = (JSON.parse(a.text) as { uploadId: string }).uploadId;
        const attached = await t.gql(
          tech,
          'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }',
          {
            i: { studyId, uploadId, view: 'PA' },
          },
        );
        expect([what, attached.errors?.[0]?.extensions?.code]).toEqual([what, expect.any(String)]);
        expect([what, CLEAR_CODES.has(attached.errors![0].extensions!.code!)]).toEqual([what, true]);
      } else {
        expect([what, a.status >= 400 && a.status < 500]).toEqual([what, true]);
      }
    }
    const after = await t.gql<{ images: { totalCount: number } }>(tech, '{ images { totalCount } }');
    expect(after.data!.images.totalCount).toBe(before.data!.images.totalCount);
    await expectHealthy();
  });

  it('refuses an upload over MAX_UPLOAD_BYTES with 413 and a chunked one too', async () => {
    const big = await send('/uploads', Buffer.alloc(300 * 1024, 1), { 'content-type': 'image/png' });
    expect(big.status).toBe(413);
    expectClear(big, 'oversized upload');
    const chunks = (async function* () {
      for (let i = 0; i < 40; i++) yield new Uint8Array(16 * 1024);
    })();
    const res = await fetch(`${t.app.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', authorization: `Bearer ${tech}` },
      body: chunks as unknown as RequestInit['body'],
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    await expectHealthy();
  });

  it('refuses attaching unknown, malformed and foreign upload ids', async () => {
    for (const uploadId of [randomUUID(), 'not-an-id', '../../../etc/passwd', '']) {
      const r = await t.gql(tech, 'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }', {
        i: { studyId, uploadId, view: 'PA' },
      });
      expect([uploadId, r.errors?.[0]?.extensions?.code]).toEqual([uploadId, expect.any(String)]);
      expect([uploadId, CLEAR_CODES.has(r.errors![0].extensions!.code!)]).toEqual([uploadId, true]);
    }
  });
});

describe('tokens', () => {
  const probe = gqlBody('{ me { id } }');
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  it('answers malformed, forged, tampered and confused tokens with 401 UNAUTHENTICATED', async () => {
    const [header, payload, signature] = tech.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const secret = new TextEncoder().encode(t.app.config.auth.secret!);
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string][] = [
      ['garbage', 'not-a-token'],
      ['three empty parts', '..'],
      ['tampered role', `${header}.${b64({ ...claims, role: 'ADMIN' })}.${signature}`],
      ['signature stripped', `${header}.${payload}.`],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`],
      [
        'HS512 with the right secret (algorithm confusion)',
        await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).sign(secret),
      ],
      [
        'wrong issuer',
        await new SignJWT({ ...claims, iss: 'someone-else' })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(secret),
      ],
      [
        'expired',
        await new SignJWT({ ...claims, iat: now - 7200, exp: now - 60 })
          .setProtectedHeader({ alg: 'HS256' })
          .sign(secret),
      ],
      [
        'not yet valid',
        await new SignJWT({ ...claims, nbf: now + 3600 }).setProtectedHeader({ alg: 'HS256' }).sign(secret),
      ],
      [
        'unknown role',
        await new SignJWT({ ...claims, role: 'ROOT' }).setProtectedHeader({ alg: 'HS256' }).sign(secret),
      ],
      ['huge token', 'a'.repeat(60_000)],
    ];
    for (const [what, token] of cases) {
      const a = await send('/graphql', probe, {}, token);
      if (what === 'huge token') {
        // Node refuses headers over 16 KiB before any handler runs.
        expect(a.status).toBe(431);
        continue;
      }
      expectClear(a, what);
      expect([what, a.status, a.code]).toEqual([what, 401, 'UNAUTHENTICATED']);
      expect([what, a.text.includes(token.slice(0, 40))]).toEqual([what, false]);
    }
    const basic = await send(
      '/graphql',
      probe,
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      null,
    );
    expect([basic.status, basic.code]).toEqual([401, 'UNAUTHENTICATED']);
    const uploads = await send(
      '/uploads',
      Buffer.from('x'),
      { 'content-type': 'image/png' },
      'forged.token.here',
    );
    expect([uploads.status, uploads.code]).toEqual([401, 'UNAUTHENTICATED']);
    await expectHealthy();
  });

  it('closes a WebSocket whose connection_init carries a forged token with 4403', async () => {
    const ws = new WebSocket(`${t.app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.once('open', () =>
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${tech}x` } })),
    );
    expect(await closed).toBe(4403);
  });

  it('closes a WebSocket that sends garbage frames instead of the protocol', async () => {
    const ws = new WebSocket(`${t.app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.once('open', () => ws.send(Buffer.from([0xff, 0x00, 0x13])));
    expect(await closed).toBe(4400);
    await expectHealthy();
  });
});

describe('cross-role attempts', () => {
  it('refuses each role what it may not do, with FORBIDDEN (GraphQL) or 403 (HTTP)', async () => {
    const attempts: [string, string, string, Record<string, unknown>?][] = [
      ['admin reads patients (PHI)', admin, '{ patients { totalCount } }'],
      [
        'technician filters predictions by their label',
        tech,
        '{ predictions(filter: {label: "NORMAL"}) { totalCount } }',
      ],
      ['admin reads predictions', admin, '{ predictions { totalCount } }'],
      [
        'integrator analyses a study',
        integrator,
        `mutation { analyzeStudy(studyId: "${randomUUID()}") { id } }`,
      ],
      [
        'integrator creates a patient',
        integrator,
        'mutation { createPatient(input: {mrn: "X-1", givenName: "A", familyName: "B"}) { id } }',
      ],
      ['technician reads the audit trail', tech, '{ auditEvents { totalCount } }'],
      [
        'radiologist deactivates a user',
        radiologist,
        `mutation { deactivateUser(id: "${randomUUID()}") { id } }`,
      ],
      [
        'technician creates a user',
        tech,
        'mutation { createUser(input: {email: "someone@example.com", displayName: "X", role: ADMIN}) { id } }',
      ],
    ];
    for (const [what, token, query] of attempts) {
      const r = await t.gql(token, query);
      expectClear({ status: r.status, text: JSON.stringify(r), code: r.errors?.[0]?.extensions?.code }, what);
      expect([what, r.errors?.[0]?.extensions?.code]).toEqual([what, 'FORBIDDEN']);
      expect([what, r.data ?? null]).toEqual([what, null]);
    }
    const upload = await send('/uploads', Buffer.from('x'), { 'content-type': 'image/png' }, integrator);
    expect([upload.status, upload.code]).toEqual([403, 'FORBIDDEN']);
    const heatmap = await send(`/predictions/${randomUUID()}/heatmap`, undefined, {}, tech, 'GET');
    expect(heatmap.status).toBe(403);
    await expectHealthy();
  });
});
