import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The process's Prometheus registry. One instance per app, built in the composition root and handed
 * to the features that export metrics (each registers its own collectors on `registry`), and served
 * at `GET /metrics`.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry, prefix: 'care_companion_' });
  }

  /** The exposition text Prometheus scrapes. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
