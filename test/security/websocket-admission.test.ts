/**
 * H4, the WebSocket side door. Regressions: over graphql-ws, queries were neither rate-limited nor
 * audited (300 `patients { mrn }` reads after HTTP had answered 429 left no audit row), reads nested
 * in subscription events were not audited, and a socket could hold any number of subscriptions
 * (200 made one study update cost 3 s). WebSocket operations now go through the same admission as
 * HTTP: token re-checked, rate budget charged by cost, audited under a server-made label; and
 * subscriptions are capped per socket and per user.
 */
import { randomUUID } from 'node:crypto';
import { Role } from '../../src/domain/enums';
import {
  actUntilReceived,
  connectWs,
  subscribe,
  WireError,
  WsConnection,
} from '../support/graphql-ws-client';
import type { TestApp } from '../support/test-app';
import { startLightApp } from './light-app';

let t: TestApp;
let tech: string;
let patientId: string;
const sockets: WsConnection[] = [];

beforeAll(async () => {
  t = await startLightApp({
    RATE_LIMIT_PER_MINUTE: '30',
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3',
    WS_MAX_SUBSCRIPTIONS_PER_USER: '4',
  });
  tech = await t.tokenFor(Role.TECHNICIAN);
  const p = await t.gql<{ createPatient: { id: string } }>(
    tech,
    'mutation { createPatient(input: {mrn: "WS-1", givenName: "Wanda", familyName: "Socket"}) { id } }',
  );
  patientId = p.data!.createPatient.id;
});
afterAll(async () => {
  await Promise.all(sockets.map((s) => s.dispose()));
  await t?.stop();
});

async function open(token: string): Promise<WsConnection> {
  const ws = connectWs(t.app.url, { authorization: `Bearer ${token}` });
  sockets.push(ws);
  await ws.connected;
  return ws;
}

async function userIdOf(token: string): Promise<string> {
  return (await t.gql<{ me: { id: string } }>(token, '{ me { id } }')).data!.me.id;
}

async function createStudy(): Promise<string> {
  const res = await t.gql<{ createStudy: { id: string } }>(
    tech,
    'mutation($p: ID!, $a: String!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: $a}) { id } }',
    { p: patientId, a: `WS-${randomUUID().slice(0, 8)}` },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.createStudy.id;
}

async function auditRows(actorId: string, entityType: string) {
  return (await t.app.orm.em
    .fork()
    .getConnection()
    .execute(
      `select entity_id, operation from audit_event where actor_id = ? and entity_type = ? and action = 'READ'`,
      [actorId, entityType],
    )) as { entity_id: string; operation: string }[];
}

const codes = (errors: WireError[]) => errors.map((e) => e.extensions?.code);

describe('operations over graphql-ws pass the same admission as HTTP', () => {
  it('are refused with RATE_LIMITED once the token spent its budget over HTTP', async () => {
    const token = await t.tokenFor(Role.RADIOLOGIST);
    const ws = await open(token);
    let status = 200;
    for (let i = 0; i < 40 && status !== 429; i++) {
      const res = await fetch(`${t.app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      status = res.status;
      await res.arrayBuffer();
    }
    expect(status).toBe(429);
    const read = subscribe<{ patients: unknown }>(
      ws.client,
      '{ patients(first: 5) { edges { node { mrn } } } }',
    );
    expect(codes(await read.waitForErrors())).toEqual(['RATE_LIMITED']);
    expect(read.events).toEqual([]);
  });

  it('audit a query: each patient read is a READ row labelled "query patients"', async () => {
    const token = await t.tokenFor(Role.RADIOLOGIST);
    const actor = await userIdOf(token);
    const ws = await open(token);
    const read = subscribe<{ patients: { edges: { node: { id: string } }[] } }>(
      ws.client,
      '{ patients(first: 5) { edges { node { id mrn } } } }',
    );
    const { patients } = await read.waitForEvent(() => true);
    expect(patients.edges.length).toBeGreaterThan(0);
    // The rows are written before the answer is sent.
    const rows = await auditRows(actor, 'Patient');
    expect(rows.map((r) => r.entity_id).sort()).toEqual(patients.edges.map((e) => e.node.id).sort());
    expect(new Set(rows.map((r) => r.operation))).toEqual(new Set(['query patients']));
  });

  it('audit reads nested in a subscription event (the patient reached through the study)', async () => {
    const token = await t.tokenFor(Role.RADIOLOGIST);
    const actor = await userIdOf(token);
    const ws = await open(token);
    const sub = subscribe<{ studyEvents: { study: { id: string; patient: { id: string } } } }>(
      ws.client,
      'subscription { studyEvents { study { id patient { id mrn } } } }',
    );
    const event = await actUntilReceived(sub, async () => {
      const id = await createStudy();
      return (e) => e.studyEvents.study.id === id;
    });
    expect(event.studyEvents.study.patient.id).toBe(patientId);
    // Deliveries are audited off the delivery path, in batches: wait for this one's batch.
    await t.app.subscriptions.fanOut.drain();
    await t.app.subscriptions.audit.flush();
    const rows = await auditRows(actor, 'Patient');
    expect(rows.map((r) => r.entity_id)).toContain(patientId);
    expect(new Set(rows.map((r) => r.operation))).toEqual(new Set(['subscription studyEvents']));
  });
});

describe('subscriptions are capped per socket and per user', () => {
  const follow = (ws: WsConnection) =>
    subscribe<{ studyEvents: { study: { id: string } } }>(
      ws.client,
      'subscription { studyEvents { study { id } } }',
    );
  /** Resolves once `sub` delivers an event: it is live. */
  const live = (sub: ReturnType<typeof follow>) =>
    actUntilReceived(sub, async () => {
      const id = await createStudy();
      return (e) => e.studyEvents.study.id === id;
    });

  it('refuses a fourth subscription on one socket and a fifth for the user, and frees slots when they end', async () => {
    const token = await t.tokenFor(Role.RADIOLOGIST);
    const first = await open(token);
    const held = [follow(first), follow(first), follow(first)];
    for (const sub of held) await live(sub);
    const fourth = follow(first);
    expect(codes(await fourth.waitForErrors())).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    expect(fourth.errors[0]!.extensions?.details).toMatchObject({ scope: 'SOCKET', limit: 3 });

    const second = await open(token);
    await live(follow(second)); // the user's fourth
    const fifth = follow(second);
    expect(codes(await fifth.waitForErrors())).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    expect(fifth.errors[0]!.extensions?.details).toMatchObject({ scope: 'USER', limit: 4 });

    held[0]!.stop(); // completing one gives its slot back
    await live(follow(first));
    await first.dispose(); // closing the socket gives back all of its slots (once the server sees it)
    await first.closed;
    for (let attempt = 1; ; attempt++) {
      const again = follow(second);
      try {
        await live(again);
        break;
      } catch (error) {
        if (attempt >= 20 || codes(again.errors)[0] !== 'TOO_MANY_SUBSCRIPTIONS') throw error;
      }
    }
  });
});
