/**
 * Subscription fan-out (issue 19). Regressions: every subscriber of every event forked its own unit
 * of work, re-read the study, wrote and awaited an audit row and re-read its principal (one SELECT and
 * one INSERT per subscriber per event: 600 deliveries/s saturated the process); a socket stayed open
 * past its token's expiry and after its user's deactivation until the next event came. Now an event
 * is executed once per (document, variables, role) in one shared unit of work, every delivery is
 * still audited per recipient (in batches), and each socket is authenticated once, then closed when
 * its token expires or its user changes.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { Role } from '../../src/domain/enums';
import { SLOW_CONSUMER_CLOSE_CODE } from '../../src/http/subscription-fan-out';
import { Topic } from '../../src/domain/shared/events';
import {
  actUntilReceived,
  connectWs,
  subscribe,
  waitForClose,
  WsConnection,
  WsSubscription,
} from '../support/graphql-ws-client';
import type { TestApp } from '../support/test-app';
import { startLightApp } from '../security/light-app';

const SLOW_CONSUMER_BYTES = 64 * 1024;

let t: TestApp;
let tech: string;
let patientId: string;
let studyId: string;
let recording: string[] | null = null;
const sockets: WsConnection[] = [];

beforeAll(async () => {
  t = await startLightApp(
    // Principals re-read at most every minute: a user read during delivery would be fan-out's own.
    {
      AUTH_PRINCIPAL_CACHE_MS: '60000',
      MODEL_RECONCILE_INTERVAL_MS: '0',
      // Small enough that a consumer that stops reading is found within a few hundred events.
      WS_SLOW_CONSUMER_BYTES: String(SLOW_CONSUMER_BYTES),
      WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '50',
      WS_MAX_SUBSCRIPTIONS_PER_USER: '200',
    },
    { onQuery: (line) => recording?.push(line) },
  );
  tech = await t.tokenFor(Role.TECHNICIAN);
  const p = await t.gql<{ createPatient: { id: string } }>(
    tech,
    'mutation { createPatient(input: {mrn: "FAN-1", givenName: "Fan", familyName: "Out"}) { id } }',
  );
  patientId = p.data!.createPatient.id;
  const s = await t.gql<{ createStudy: { id: string } }>(
    tech,
    'mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: "FAN-A1"}) { id } }',
    { p: patientId },
  );
  studyId = s.data!.createStudy.id;
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

/** Resolves once `check` holds, checking whenever the event loop is free (at most `timeoutMs`). */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function userIdOf(token: string): Promise<string> {
  return (await t.gql<{ me: { id: string } }>(token, '{ me { id } }')).data!.me.id;
}

type StudyEvent = { studyEvents: { change: string; study: { id: string; finalRead: unknown } } };

describe('one execution per event and group, audited per recipient', () => {
  it('reads the study once for 40 subscribers in two roles, gives each role its own payload, and audits each delivery', async () => {
    const users: { role: Role; token: string; id: string }[] = [];
    for (const role of [Role.INTEGRATOR, Role.INTEGRATOR, Role.TECHNICIAN, Role.TECHNICIAN]) {
      const token = await t.tokenFor(role);
      users.push({ role, token, id: await userIdOf(token) });
    }
    const query =
      'subscription { studyEvents { change study { id status patient { id } finalRead { version } } } }';
    const subs: { user: (typeof users)[number]; sub: WsSubscription<StudyEvent> }[] = [];
    const before = t.app.subscriptions.fanOut.stats().subscriptions;
    for (const user of users)
      for (let socket = 0; socket < 2; socket++) {
        const ws = await open(user.token);
        for (let i = 0; i < 5; i++) subs.push({ user, sub: subscribe<StudyEvent>(ws.client, query) });
      }
    await until(
      () => t.app.subscriptions.fanOut.stats().subscriptions === before + 40,
      '40 live subscriptions',
    );

    recording = [];
    t.app.events.publish(Topic.STUDY_CHANGED, { studyId, patientId, change: 'UPDATED' });
    await Promise.all(subs.map(({ sub }) => sub.waitForEvent((e) => e.studyEvents.study.id === studyId)));
    await t.app.subscriptions.fanOut.drain();
    const statements = recording;
    recording = null;

    const reads = (table: string) =>
      statements.filter((s) => new RegExp(`^\\[query\\] select .* from "${table}"`, 'i').test(s.trim()));
    // One read of the study and of its patient for all 40; the read in force only for the role allowed it.
    expect(reads('study')).toHaveLength(1);
    expect(reads('patient')).toHaveLength(1);
    expect(reads('study_read')).toHaveLength(1);
    expect(reads('app_user')).toHaveLength(0);

    for (const { user, sub } of subs) {
      const event = sub.events.find((e) => e.studyEvents.study.id === studyId)!;
      expect(event.studyEvents.change).toBe('UPDATED');
      if (user.role === Role.INTEGRATOR) {
        expect(sub.errors).toEqual([]);
        expect(event.studyEvents.study.finalRead).toBeNull();
      } else {
        // Technicians may not read the radiologist's read: that field only is refused.
        expect(sub.errors.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      }
    }

    // Off the delivery path, complete: each of the 40 deliveries has its rows under its recipient.
    await t.app.subscriptions.audit.flush();
    for (const user of users) {
      const rows = (await t.app.orm.em
        .fork()
        .getConnection()
        .execute(
          `select action, entity_type, entity_id, patient_id, operation, actor_role, count(distinct request_id)::int as subscriptions, count(*)::int as n
             from audit_event where actor_id = ? group by 1, 2, 3, 4, 5, 6 order by 1, 2`,
          [user.id],
        )) as Record<string, unknown>[];
      const expected = [
        ...(user.role === Role.TECHNICIAN
          ? [
              {
                action: 'DENIED',
                entity_type: 'Operation',
                entity_id: 'studyEvents.study.finalRead',
                patient_id: null,
              },
            ]
          : []),
        { action: 'READ', entity_type: 'Patient', entity_id: patientId, patient_id: patientId },
        { action: 'READ', entity_type: 'Study', entity_id: studyId, patient_id: patientId },
      ].map((row) => ({
        ...row,
        operation: 'subscription studyEvents',
        actor_role: user.role,
        subscriptions: 10,
        n: 10,
      }));
      expect(rows).toEqual(expected);
    }
    for (const { sub } of subs) sub.stop();
  });

  it('indexes subscribers by patient: an event of another patient executes nothing for them', async () => {
    const integrator = await t.tokenFor(Role.INTEGRATOR);
    const ws = await open(integrator);
    const other = randomUUID();
    const mine = subscribe<StudyEvent>(
      ws.client,
      'subscription($p: ID) { studyEvents(patientId: $p) { study { id } } }',
      { p: patientId },
    );
    const theirs = subscribe<StudyEvent>(
      ws.client,
      'subscription($p: ID) { studyEvents(patientId: $p) { study { id } } }',
      { p: other },
    );
    const { groups } = t.app.subscriptions.fanOut.stats();
    await until(() => t.app.subscriptions.fanOut.stats().groups === groups + 2, 'two groups');
    recording = [];
    t.app.events.publish(Topic.STUDY_CHANGED, { studyId, patientId, change: 'UPDATED' });
    await mine.waitForEvent((e) => e.studyEvents.study.id === studyId);
    await t.app.subscriptions.fanOut.drain();
    const statements = recording.filter((s) => /^\[query\] select/i.test(s.trim()));
    recording = null;
    expect(statements).toHaveLength(1); // the study, for `mine` only
    expect(theirs.events).toEqual([]);
    mine.stop();
    theirs.stop();
  });
});

describe('the state at the event', () => {
  it('delivers the study as the change left it, from the event itself: no read, even when the study changed since', async () => {
    const integrator = await t.tokenFor(Role.INTEGRATOR);
    const integratorId = await userIdOf(integrator);
    const ws = await open(integrator);
    const sub = subscribe<{
      studyEvents: { change: string; study: { id: string; description: string | null } };
    }>(ws.client, 'subscription($p: ID) { studyEvents(patientId: $p) { change study { id description } } }', {
      p: patientId,
    });
    // A real update: the event carries what it wrote (repeated until the subscription is live).
    await actUntilReceived(sub, async () => {
      const updated = await t.gql(
        tech,
        'mutation($id: ID!) { updateStudy(id: $id, input: {description: "first"}) { id } }',
        { id: studyId },
      );
      expect(updated.errors).toBeUndefined();
      return (e) => e.studyEvents.study.description === 'first';
    });

    // An event whose study has changed since (its snapshot says "as at the event", the row "first"):
    // the subscriber gets the event's state, and fan-out reads nothing for it.
    const [row] = (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(
        `select id, patient_id, site_id, body_part, priority, status, accession_number, created_at, updated_at
           from study where id = ?`,
        [studyId],
      )) as Record<string, string>[];
    recording = [];
    t.app.events.publish(Topic.STUDY_CHANGED, {
      studyId,
      patientId,
      change: 'UPDATED',
      snapshot: {
        id: studyId,
        patientId,
        siteId: row!.site_id,
        bodyPart: row!.body_part,
        priority: row!.priority,
        status: row!.status,
        accessionNumber: row!.accession_number,
        studyInstanceUid: null,
        description: 'as at the event',
        createdAt: new Date(row!.created_at).toISOString(),
        updatedAt: new Date(row!.updated_at).toISOString(),
      },
    });
    await sub.waitForEvent((e) => e.studyEvents.study.description === 'as at the event');
    await t.app.subscriptions.fanOut.drain();
    const statements = recording.filter((q) => /^\[query\] select/i.test(q.trim()));
    recording = null;
    expect(statements).toEqual([]);
    // Still audited per recipient.
    await t.app.subscriptions.audit.flush();
    const rows = await auditCount(integratorId);
    expect(rows).toBeGreaterThanOrEqual(2);
    await until(() => sub.events.length === rows, `${rows} events, one per audit row`);
    sub.stop();
  });
});

describe('authentication per connection', () => {
  it('closes a socket with 4403 when its token expires, with no event or operation to trigger it', async () => {
    const { user } = await t.app.users.bootstrapAdmin(`expiring-${randomUUID()}@test`, Role.INTEGRATOR);
    const { token } = await t.app.tokens.mint(user.id, Role.INTEGRATOR, 2);
    const ws = await open(token);
    subscribe(ws.client, 'subscription { studyEvents { study { id } } }');
    expect(await waitForClose(ws, 15_000)).toBe(4403);
  });

  it('closes a socket with 4403 as soon as its user is deactivated, with no event or operation to trigger it', async () => {
    const admin = await t.tokenFor(Role.ADMIN);
    const { token, user } = await t.app.users.bootstrapAdmin(`leaving-${randomUUID()}@test`, Role.INTEGRATOR);
    const ws = await open(token);
    subscribe(ws.client, 'subscription { studyEvents { study { id } } }');
    const off = await t.gql(admin, 'mutation($id: ID!) { deactivateUser(id: $id) { active } }', {
      id: user.id,
    });
    expect(off.errors).toBeUndefined();
    expect(await waitForClose(ws)).toBe(4403);
  });
});

/**
 * A graphql-transport-ws client on a bare socket that can stop reading (`pause`): its TCP window
 * closes, and what the server sends it piles up in the server's socket buffer.
 */
async function rawSubscriber(token: string, query: string, subscriptions: number) {
  const socket = new WebSocket(`${t.app.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const frames: { id: string; type: string; payload?: unknown }[] = [];
  let acked!: () => void;
  const ack = new Promise<void>((resolve) => (acked = resolve));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id: string; type: string; payload?: unknown };
    if (message.type === 'connection_ack') acked();
    else frames.push(message);
  });
  await new Promise((resolve) => socket.once('open', resolve));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await ack;
  for (let i = 0; i < subscriptions; i++)
    socket.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query } }));
  return { socket, frames, closed };
}

async function auditCount(userId: string): Promise<number> {
  const [row] = (await t.app.orm.em
    .fork()
    .getConnection()
    .execute(
      `select count(*)::int as n from audit_event
        where actor_id = ? and action = 'READ' and entity_type = 'Study' and operation = 'subscription studyEvents'`,
      [userId],
    )) as { n: number }[];
  return row!.n;
}

describe('a consumer that stops reading', () => {
  it('is closed with 4008 while the server stays up, the others get every event, mutations keep working, and audit rows match what was delivered', async () => {
    const query = 'subscription { studyEvents { change study { id description priority status } } }';
    const slowToken = await t.tokenFor(Role.INTEGRATOR, `slow-${randomUUID()}@test`);
    const fastToken = await t.tokenFor(Role.INTEGRATOR, `fast-${randomUUID()}@test`);
    const [slowUser, fastUser] = [await userIdOf(slowToken), await userIdOf(fastToken)];
    const before = t.app.subscriptions.fanOut.stats();

    const slow = await rawSubscriber(slowToken, query, 40);
    const fastSockets = [await open(fastToken), await open(fastToken)];
    const fast = fastSockets.map((ws) => subscribe<StudyEvent>(ws.client, query));
    await until(
      () => t.app.subscriptions.fanOut.stats().subscriptions === before.subscriptions + 42,
      '42 live subscriptions',
    );
    slow.socket.pause();

    // Events until the server gives up on the slow socket; a technician's mutation every ten of them.
    let published = 0;
    let mutations = 0;
    const slowClosed = () => t.app.subscriptions.fanOut.stats().connections === before.connections + 2;
    while (!slowClosed()) {
      if (published >= 5_000) throw new Error('the slow consumer was never closed');
      t.app.events.publish(Topic.STUDY_CHANGED, { studyId, patientId, change: 'UPDATED' });
      published++;
      if (published % 10 === 0) {
        const updated = await t.gql(
          tech,
          'mutation($id: ID!, $d: String!) { updateStudy(id: $id, input: {description: $d}) { id } }',
          { id: studyId, d: `slow-consumer ${published}` },
        );
        expect(updated.errors).toBeUndefined();
        mutations++;
        await t.app.subscriptions.fanOut.drain();
      }
    }
    // The others are still served after it is gone.
    for (let i = 0; i < 5; i++) {
      t.app.events.publish(Topic.STUDY_CHANGED, { studyId, patientId, change: 'UPDATED' });
      published++;
    }
    await t.app.subscriptions.fanOut.drain();
    // Each event above, plus each updateStudy's own.
    const expected = published + mutations;
    await Promise.all(
      fast.map((sub) =>
        until(() => sub.events.length === expected, `${expected} events on a fast subscriber`),
      ),
    );
    expect(fast.map((sub) => sub.errors)).toEqual([[], []]);

    // The slow one reads again: what was written to its socket, then the close frame with 4008.
    slow.socket.resume();
    expect(await slow.closed).toBe(SLOW_CONSUMER_CLOSE_CODE);
    const received = slow.frames.filter((f) => f.type === 'next').length;
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(expected * 40);

    // The process lives and answers.
    const me = await t.gql<{ me: { id: string } }>(fastToken, '{ me { id } }');
    expect(me.data!.me.id).toBe(fastUser);
    const metrics = await t.app.metrics.registry.getSingleMetricAsString(
      'care_companion_subscription_slow_consumers_total',
    );
    expect(metrics).toMatch(/^care_companion_subscription_slow_consumers_total 1$/m);

    // One READ row per frame handed to a socket: the slow one's match what it read, exactly.
    await t.app.subscriptions.audit.flush();
    expect(await auditCount(fastUser)).toBe(expected * 2);
    expect(await auditCount(slowUser)).toBe(received);
    for (const sub of fast) sub.stop();
  });
});
