import {
  GraphQLError,
  GraphQLID,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
} from 'graphql';
import type { Principal } from '../auth/principal';
import type { DeliveryRecord } from '../domain/audit/audit-batch-writer';
import { AuditCollector } from '../domain/audit/audit.service';
import { Role } from '../domain/enums';
import type { RequestContext } from '../domain/shared/request-context';
import { ForbiddenError } from '../errors';
import type { Logger } from '../logging/logger';
import { bindFilter, TopicStream } from '../pubsub/topic-stream';
import type { GraphQLContext } from '../resolvers/context';
import {
  DropReason,
  FanOutDeps,
  FrameSink,
  rolePrincipal,
  SLOW_CONSUMER_CLOSE_CODE,
  SubscriptionFanOut,
} from './subscription-fan-out';

interface StudyEvent {
  studyId: string;
  patientId: string;
  /** How long its execution takes (a slow read). */
  delayMs?: number;
}

/** What the fake world counted. */
const counts = { executions: 0, eventContexts: 0, reads: new Map<string, number>() };

/** A schema with one subscription whose `secret` field only radiologists may read. */
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      studyChanged: {
        type: new GraphQLObjectType({
          name: 'Study',
          fields: {
            id: { type: new GraphQLNonNull(GraphQLID) },
            secret: {
              type: GraphQLString,
              resolve: (_study, _args, ctx: GraphQLContext) => {
                if (ctx.principal?.role !== Role.RADIOLOGIST) {
                  throw new ForbiddenError('Your role may not do this');
                }
                return 'finding';
              },
            },
            owner: {
              type: GraphQLString,
              // A field that would depend on who the user is: refused in a shared execution.
              resolve: (_study, _args, ctx: GraphQLContext) => ctx.principal?.userId ?? null,
            },
          },
        }),
        args: { patientId: { type: GraphQLID } },
        resolve: async (event: StudyEvent, _args, ctx: GraphQLContext) => {
          counts.executions++;
          if (event.delayMs) await new Promise((resolve) => setTimeout(resolve, event.delayMs));
          // The event's shared unit of work: one read per event, whatever the groups.
          const shared = ctx.loaders as unknown as Map<string, Promise<string>>;
          if (!shared.has(event.studyId)) {
            counts.reads.set(event.studyId, (counts.reads.get(event.studyId) ?? 0) + 1);
            shared.set(event.studyId, Promise.resolve(event.studyId));
          }
          ctx.audit.read('Study', await shared.get(event.studyId)!, event.patientId);
          return { id: event.studyId };
        },
      },
    },
  }),
});

/** A socket that records frames; `buffered` is what it pretends still waits to be written. */
class FakeSink implements FrameSink {
  frames: string[] = [];
  closed: number | null = null;
  buffered = 0;
  bufferedBytes() {
    return this.buffered;
  }
  send(frame: string) {
    this.frames.push(frame);
  }
  close(code: number) {
    this.closed = code;
  }
  /** The `next` messages received, parsed. */
  get messages(): {
    id: string;
    type: string;
    payload: { data: unknown; errors?: { extensions: { code: string } }[] };
  }[] {
    return this.frames.map((f) => JSON.parse(f));
  }
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;

function world(limits: Partial<FanOutDeps['limits']> = {}) {
  const target = new EventTarget();
  const audit: DeliveryRecord[] = [];
  const dropped: [DropReason, number][] = [];
  let slow = 0;
  counts.executions = 0;
  counts.eventContexts = 0;
  counts.reads.clear();
  const hub = new SubscriptionFanOut({
    listen: (topic, handler) => {
      const listener = (e: Event) => handler((e as CustomEvent).detail);
      target.addEventListener(topic, listener);
      return () => target.removeEventListener(topic, listener);
    },
    createEventContext: (requestId) => {
      counts.eventContexts++;
      return {
        requestId,
        principal: null,
        em: {} as never,
        loaders: new Map() as never,
        audit: new AuditCollector(null, requestId),
      } as RequestContext;
    },
    createGroupContext: (principal, shared) =>
      ({
        requestId: shared.requestId,
        principal,
        em: shared.em,
        loaders: shared.loaders,
        audit: new AuditCollector(principal, shared.requestId),
      }) as unknown as GraphQLContext,
    formatError: (e: GraphQLError) => ({
      message: e.message,
      path: e.path,
      extensions: {
        code: (e.originalError as { code?: string } | undefined)?.code ?? 'INTERNAL_SERVER_ERROR',
      },
    }),
    audit: { record: (d) => audit.push(d) },
    logger: silent,
    observer: {
      eventDelivered: () => undefined,
      dropped: (reason, n) => dropped.push([reason, n]),
      slowConsumerClosed: () => slow++,
    },
    limits: { slowConsumerBytes: 64 * 1024, executionConcurrency: 2, maxQueuedEvents: 1000, ...limits },
  });
  const publish = (event: StudyEvent) => target.dispatchEvent(new CustomEvent('STUDY', { detail: event }));
  let n = 0;
  const subscribe = (
    sink: FakeSink,
    role: Role,
    query: string,
    args: { patientId?: string } = {},
    filter: Parameters<typeof bindFilter<StudyEvent, { patientId?: string }>>[0] = { patientId: 'patientId' },
  ) => {
    const connection = hub.connect(sink);
    const bound = bindFilter<StudyEvent, { patientId?: string }>(filter, args);
    const principal: Principal = { userId: `user-${++n}`, role, tokenId: `t-${n}` };
    const end = hub.subscribe(connection, {
      id: `op-${n}`,
      requestId: `req-${n}`,
      principal,
      stream: new TopicStream('STUDY', bound.accept, bound.indexKey, bound.eventKeys, () => {
        throw new Error('not iterated under fan-out');
      }),
      execution: { schema, document: parse(query), variableValues: args },
      operation: 'subscription studyChanged',
    });
    return { connection, end, principal, id: `op-${n}` };
  };
  return { hub, publish, subscribe, audit, dropped, slow: () => slow };
}

const BROADCAST = 'subscription { studyChanged { id secret } }';
const BY_PATIENT = 'subscription($patientId: ID) { studyChanged(patientId: $patientId) { id } }';

describe('SubscriptionFanOut: one execution per group', () => {
  it('executes an event once per (document, variables, role) and shares one read among the groups', async () => {
    const w = world();
    const radiologists = Array.from({ length: 50 }, () => new FakeSink());
    const technicians = Array.from({ length: 50 }, () => new FakeSink());
    for (const s of radiologists) w.subscribe(s, Role.RADIOLOGIST, BROADCAST);
    for (const s of technicians) w.subscribe(s, Role.TECHNICIAN, BROADCAST);
    w.publish({ studyId: 's1', patientId: 'p1' });
    await w.hub.drain();

    expect(counts.executions).toBe(2);
    expect(counts.eventContexts).toBe(1);
    expect(counts.reads.get('s1')).toBe(1);
    for (const s of [...radiologists, ...technicians]) expect(s.frames).toHaveLength(1);
    // Each frame names its own subscription; the payload is the role's.
    expect(new Set(radiologists.map((s) => s.messages[0]!.id)).size).toBe(50);
    expect(radiologists[0]!.messages[0]!.payload).toEqual({
      data: { studyChanged: { id: 's1', secret: 'finding' } },
    });
    const refused = technicians[0]!.messages[0]!.payload;
    expect(refused.data).toEqual({ studyChanged: { id: 's1', secret: null } });
    expect(refused.errors!.map((e) => e.extensions.code)).toEqual(['FORBIDDEN']);
  });

  it('audits every delivery per recipient: reads for all, the refusal for the refused role only', async () => {
    const w = world();
    const r = w.subscribe(new FakeSink(), Role.RADIOLOGIST, BROADCAST);
    const t1 = w.subscribe(new FakeSink(), Role.TECHNICIAN, BROADCAST);
    const t2 = w.subscribe(new FakeSink(), Role.TECHNICIAN, BROADCAST);
    w.publish({ studyId: 's1', patientId: 'p1' });
    await w.hub.drain();

    const rows = w.audit.flatMap((d) =>
      d.recipients.flatMap((who) =>
        d.entries.map(
          (e) => `${who.userId} ${who.requestId} ${d.operation} ${e.action} ${e.entityId} ${e.patientId}`,
        ),
      ),
    );
    expect(rows.sort()).toEqual(
      [
        `${r.principal.userId} req-1 subscription studyChanged READ s1 p1`,
        `${t1.principal.userId} req-2 subscription studyChanged READ s1 p1`,
        `${t1.principal.userId} req-2 subscription studyChanged DENIED studyChanged.secret null`,
        `${t2.principal.userId} req-3 subscription studyChanged READ s1 p1`,
        `${t2.principal.userId} req-3 subscription studyChanged DENIED studyChanged.secret null`,
      ].sort(),
    );
  });

  it('refuses, in a shared execution, a field that would depend on who the user is', async () => {
    const w = world();
    const sink = new FakeSink();
    w.subscribe(sink, Role.RADIOLOGIST, 'subscription { studyChanged { id owner } }');
    w.publish({ studyId: 's1', patientId: 'p1' });
    await w.hub.drain();
    const { payload } = sink.messages[0]!;
    expect(payload.data).toEqual({ studyChanged: { id: 's1', owner: null } });
    expect(payload.errors).toHaveLength(1);
    expect(() => rolePrincipal(Role.ADMIN).userId).toThrow(/once per role/);
  });
});

describe('SubscriptionFanOut: routing and order', () => {
  it('finds subscribers by their filter key: an event executes and is delivered for its patient only', async () => {
    const w = world();
    const sinks = new Map<string, FakeSink[]>();
    for (let p = 0; p < 100; p++)
      for (let i = 0; i < 3; i++) {
        const sink = new FakeSink();
        sinks.set(`p${p}`, [...(sinks.get(`p${p}`) ?? []), sink]);
        w.subscribe(sink, Role.INTEGRATOR, BY_PATIENT, { patientId: `p${p}` });
      }
    const everything = new FakeSink();
    w.subscribe(everything, Role.INTEGRATOR, BY_PATIENT, {});
    expect(w.hub.stats()).toMatchObject({ subscriptions: 301, groups: 101 });

    w.publish({ studyId: 's7', patientId: 'p7' });
    await w.hub.drain();
    expect(counts.executions).toBe(2); // the p7 group and the unfiltered one
    for (const [patient, list] of sinks)
      for (const s of list) expect(s.frames).toHaveLength(patient === 'p7' ? 1 : 0);
    expect(everything.frames).toHaveLength(1);
  });

  it('delivers events in the order they arrived, even when a later one executes first', async () => {
    const w = world({ executionConcurrency: 4 });
    const sink = new FakeSink();
    w.subscribe(sink, Role.INTEGRATOR, BY_PATIENT, {});
    // The first of each four executes slowest: the three after it are ready before it.
    for (let i = 0; i < 20; i++)
      w.publish({ studyId: `s${i}`, patientId: 'p', delayMs: i % 4 === 0 ? 20 : 0 });
    await w.hub.drain();
    expect(
      sink.messages.map((m) => (m.payload.data as { studyChanged: { id: string } }).studyChanged.id),
    ).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`));
  });

  it('ends a subscription at once: no frame after its end, and the group goes with its last subscriber', async () => {
    const w = world();
    const sink = new FakeSink();
    const sub = w.subscribe(sink, Role.INTEGRATOR, BY_PATIENT, { patientId: 'p1' });
    w.publish({ studyId: 's1', patientId: 'p1' });
    sub.end();
    await w.hub.drain();
    expect(sink.frames).toHaveLength(0);
    expect(w.hub.stats()).toMatchObject({ subscriptions: 0, groups: 0 });
  });
});

describe('SubscriptionFanOut: slow consumers, suspension and the queue bound', () => {
  it('closes a consumer that does not read with 4008, drops its events, and serves the others', async () => {
    const w = world({ slowConsumerBytes: 4096 });
    const slow = new FakeSink();
    const fine = new FakeSink();
    w.subscribe(slow, Role.INTEGRATOR, BY_PATIENT, {});
    w.subscribe(fine, Role.INTEGRATOR, BY_PATIENT, {});
    w.publish({ studyId: 's0', patientId: 'p' });
    await w.hub.drain();
    slow.buffered = 5000; // its peer stopped reading
    for (let i = 1; i <= 10; i++) w.publish({ studyId: `s${i}`, patientId: 'p' });
    await w.hub.drain();

    expect(slow.closed).toBe(SLOW_CONSUMER_CLOSE_CODE);
    expect(slow.frames).toHaveLength(1);
    expect(fine.frames).toHaveLength(11);
    expect(w.slow()).toBe(1);
    expect(w.dropped).toEqual([['slow_consumer', 1]]);
    expect(w.hub.stats()).toMatchObject({ connections: 1, subscriptions: 1 });
    // Audit rows only for what was sent.
    const delivered = w.audit.flatMap((d) => d.recipients.map((r) => r.requestId));
    expect(delivered.filter((id) => id === 'req-1')).toHaveLength(1);
    expect(delivered.filter((id) => id === 'req-2')).toHaveLength(11);
  });

  it('holds deliveries of a suspended connection, sends them on resume, drops them on close', async () => {
    const w = world();
    const kept = new FakeSink();
    const revoked = new FakeSink();
    const a = w.subscribe(kept, Role.INTEGRATOR, BY_PATIENT, {});
    const b = w.subscribe(revoked, Role.INTEGRATOR, BY_PATIENT, {});
    a.connection.suspend();
    b.connection.suspend();
    w.publish({ studyId: 's1', patientId: 'p' });
    w.publish({ studyId: 's2', patientId: 'p' });
    await w.hub.drain();
    expect(kept.frames).toHaveLength(0);
    expect(w.audit).toHaveLength(0);

    a.connection.resume();
    b.connection.close(4403, 'Forbidden');
    expect(kept.frames).toHaveLength(2);
    expect(w.audit.map((d) => d.recipients.map((r) => r.requestId))).toEqual([['req-1'], ['req-1']]);
    expect(revoked.frames).toHaveLength(0);
    expect(revoked.closed).toBe(4403);
    expect(w.dropped).toEqual([['revoked', 2]]);
  });

  it('drops events beyond the queue bound (counted), and a failing execution never throws out of the listener', async () => {
    const w = world({ maxQueuedEvents: 3, executionConcurrency: 1 });
    const sink = new FakeSink();
    w.subscribe(sink, Role.INTEGRATOR, 'subscription { studyChanged { id secret } }', {}, () => {
      throw new Error('a broken filter');
    });
    expect(() => w.publish({ studyId: 's0', patientId: 'p' })).not.toThrow();
    const fine = new FakeSink();
    w.subscribe(fine, Role.INTEGRATOR, BY_PATIENT, {});
    for (let i = 0; i < 10; i++) w.publish({ studyId: `s${i}`, patientId: 'p' });
    await w.hub.drain();
    expect(fine.frames).toHaveLength(3);
    expect(w.dropped).toEqual(Array.from({ length: 7 }, () => ['queue_full', 1]));
  });
});
