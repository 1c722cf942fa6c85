import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditBatchStats } from '../domain/audit/audit-batch-writer';
import type { FanOutObserver, FanOutStats } from '../http/subscription-fan-out';

/** Where the subscription gauges are read from at scrape time. */
export interface SubscriptionStateSource {
  fanOut: { stats(): FanOutStats };
  audit: { stats(): AuditBatchStats };
}

/** Fan-out latency buckets (seconds): an event is usually out in milliseconds. */
const FANOUT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** Topics are a fixed set of constants; anything else is folded into one label value. */
const topicLabel = (topic: string): string => (/^[A-Z_]{1,40}$/.test(topic) ? topic : 'OTHER');

/**
 * Prometheus view of subscription fan-out: events, executions (one per group of recipients) and
 * deliveries per topic, the time from an event's arrival to its last frame, frames dropped by reason
 * (`slow_consumer`, `queue_full`, `revoked`), slow consumers closed (4008), and at scrape time the
 * connections, subscriptions, groups and queued events, with the audit rows written and waiting.
 * Labels are topics and reasons only, never ids.
 */
export function createSubscriptionMetrics(
  registry: Registry,
  source: SubscriptionStateSource,
): FanOutObserver {
  const registers = [registry];
  const p = 'care_companion_subscription_';
  const events = new Counter({
    name: `${p}events_total`,
    help: 'Subscription events delivered by fan-out, per topic (once per process).',
    labelNames: ['topic'] as const,
    registers,
  });
  const executions = new Counter({
    name: `${p}executions_total`,
    help: 'Subscription executions per topic: one per event and group of recipients (same document, variables and role).',
    labelNames: ['topic'] as const,
    registers,
  });
  const deliveries = new Counter({
    name: `${p}deliveries_total`,
    help: 'Subscription frames handed to sockets, per topic.',
    labelNames: ['topic'] as const,
    registers,
  });
  const fanOut = new Histogram({
    name: `${p}fanout_seconds`,
    help: "Time from a subscription event's arrival in this process to its last frame handed to a socket.",
    labelNames: ['topic'] as const,
    buckets: FANOUT_BUCKETS,
    registers,
  });
  const dropped = new Counter({
    name: `${p}dropped_total`,
    help: 'Subscription frames not sent, by reason: slow_consumer (the socket was closed with 4008), revoked (held while its user was re-checked, then refused), queue_full (whole events, fan-out overloaded).',
    labelNames: ['reason'] as const,
    registers,
  });
  const slow = new Counter({
    name: `${p}slow_consumers_total`,
    help: 'WebSockets closed with 4008 because more than WS_SLOW_CONSUMER_BYTES waited to be sent to them.',
    registers,
  });
  const state = new Gauge({
    name: `${p}state`,
    help: 'Fan-out now: open connections, subscriptions, groups (shared executions) and events queued.',
    labelNames: ['of'] as const,
    registers,
    collect: () => {
      const s = source.fanOut.stats();
      state.set({ of: 'connections' }, s.connections);
      state.set({ of: 'subscriptions' }, s.subscriptions);
      state.set({ of: 'groups' }, s.groups);
      state.set({ of: 'queued_events' }, s.queuedEvents);
    },
  });
  const auditRows = new Gauge({
    name: `${p}audit_rows`,
    help: 'Audit rows of deliveries: written, pending (waiting for their batch), dropped (beyond the pending bound), and failed batch writes.',
    labelNames: ['of'] as const,
    registers,
    collect: () => {
      const s = source.audit.stats();
      auditRows.set({ of: 'written' }, s.writtenRows);
      auditRows.set({ of: 'pending' }, s.pendingRows);
      auditRows.set({ of: 'dropped' }, s.droppedRows);
      auditRows.set({ of: 'failed_writes' }, s.failedWrites);
    },
  });
  return {
    eventDelivered: (e) => {
      const topic = topicLabel(e.topic);
      events.inc({ topic });
      executions.inc({ topic }, e.groups);
      deliveries.inc({ topic }, e.deliveries);
      fanOut.observe({ topic }, e.durationMs / 1000);
    },
    dropped: (reason, count) => dropped.inc({ reason }, count),
    slowConsumerClosed: () => slow.inc(),
  };
}
