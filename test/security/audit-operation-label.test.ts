/**
 * H3, the audit trail written by the client. Regression: the client's operationName was stored
 * verbatim in every audit row of an append-only table (one 1 MB request wrote 44 rows and 92 MB),
 * and a name could claim an operation other than the one that ran. Rows now carry a label the server
 * derives from the operation: its type and root fields.
 */
import { randomUUID } from 'node:crypto';
import { Role } from '../../src/domain/enums';
import type { TestApp } from '../support/test-app';
import { startLightApp } from './light-app';

let t: TestApp;
let tech: string;
let radiologist: string;

beforeAll(async () => {
  t = await startLightApp();
  tech = await t.tokenFor(Role.TECHNICIAN);
  radiologist = await t.tokenFor(Role.RADIOLOGIST);
  for (let i = 0; i < 5; i++) {
    const res = await t.gql(
      tech,
      'mutation($m: String!) { createPatient(input: {mrn: $m, givenName: "A", familyName: "B"}) { id } }',
      {
        m: `LABEL-${i}-${randomUUID().slice(0, 8)}`,
      },
    );
    expect(res.errors).toBeUndefined();
  }
});
afterAll(async () => t?.stop());

/** POSTs an operation under a request id of ours, so its audit rows can be found. */
async function call(token: string, body: Record<string, unknown>): Promise<{ requestId: string; json: any }> {
  const requestId = randomUUID();
  const res = await fetch(`${t.app.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'x-request-id': requestId,
    },
    body: JSON.stringify(body),
  });
  return { requestId, json: await res.json() };
}

async function rowsOf(requestId: string): Promise<{ action: string; operation: string; size: number }[]> {
  return t.app.orm.em
    .fork()
    .getConnection()
    .execute(
      'select action, operation, octet_length(operation) as size from audit_event where request_id = ? order by id',
      [requestId],
    );
}

describe('audit rows carry a server-made operation label', () => {
  it('a read named by a 1 MB operationName writes short rows labelled by what ran', async () => {
    const name = `Q${'x'.repeat(1024 * 1024)}`;
    const { requestId, json } = await call(radiologist, {
      query: `query ${name} { patients(first: 50) { edges { node { id } } } }`,
      operationName: name,
    });
    expect(json.errors).toBeUndefined();
    const rows = await rowsOf(requestId);
    expect(rows.length).toBe(json.data.patients.edges.length);
    expect(rows.length).toBeGreaterThanOrEqual(5);
    // Sizes first: a failure must not print a megabyte of operation name.
    expect(Math.max(...rows.map((r) => Number(r.size)))).toBeLessThan(100);
    expect(new Set(rows.map((r) => r.operation))).toEqual(new Set(['query patients']));
  });

  it('a mutation named like a harmless read is recorded as the mutation it is', async () => {
    const { requestId, json } = await call(tech, {
      query:
        'mutation HealthCheckReadOnly($m: String!) { createPatient(input: {mrn: $m, givenName: "C", familyName: "D"}) { id } }',
      operationName: 'HealthCheckReadOnly',
      variables: { m: `LABEL-M-${randomUUID().slice(0, 8)}` },
    });
    expect(json.errors).toBeUndefined();
    expect(await rowsOf(requestId)).toEqual([
      { action: 'CREATE', operation: 'mutation createPatient', size: expect.anything() },
    ]);
  });
});
