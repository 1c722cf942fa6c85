/**
 * GraphQL-over-HTTP conformance: the `graphql-http` package's server audits against the running
 * /graphql endpoint. Every MUST audit has to pass; SHOULD and MAY failures are printed for information.
 */
import { serverAudits } from 'graphql-http';
import { Role } from '../../src/domain/enums';
import { startTestApp, TestApp } from '../support/test-app';

let t: TestApp;
let token: string;

beforeAll(async () => {
  t = await startTestApp();
  token = await t.tokenFor(Role.RADIOLOGIST);
});
afterAll(async () => t?.stop());

/** fetch with the bearer token added, as every real client sends it. */
const authorisedFetch: typeof fetch = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const audits = serverAudits({ url: () => `${t.app.url}/graphql`, fetchFn: authorisedFetch });

describe('GraphQL over HTTP', () => {
  // SHOULD and MAY audits are recommendations: printed, not asserted.
  afterAll(async () => {
    const notMet: string[] = [];
    for (const audit of audits.filter((a) => !a.name.startsWith('MUST'))) {
      const result = await audit.fn();
      if (result.status !== 'ok')
        notMet.push(`${result.status.toUpperCase()} ${audit.name}: ${result.reason}`);
    }
    if (notMet.length)
      console.info(`graphql-http SHOULD/MAY audits not met (information only):\n${notMet.join('\n')}`);
  });

  it('has MUST audits to run (control)', () => {
    expect(audits.filter((a) => a.name.startsWith('MUST')).length).toBeGreaterThan(10);
  });

  it.each(audits.filter((a) => a.name.startsWith('MUST')).map((a) => [a.name, a] as const))(
    '%s',
    async (_name, audit) => {
      const result = await audit.fn();
      const reason = result.status === 'ok' ? null : result.reason;
      expect({ status: result.status, reason }).toEqual({ status: 'ok', reason: null });
    },
  );

  it('the audits reach GraphQL, not the 401 of a missing token (control for fetchFn)', async () => {
    const res = await authorisedFetch(`${t.app.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/graphql-response+json' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('tells caches not to keep an answer (answers carry patient data)', async () => {
    for (const res of [
      await authorisedFetch(`${t.app.url}/graphql?query=${encodeURIComponent('{ __typename }')}`),
      await authorisedFetch(`${t.app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ nope }' }),
      }),
    ]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });
});
