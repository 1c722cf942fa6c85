import { Gauge, Registry } from 'prom-client';
import type { RollingQuality } from '../domain/correction/quality.service';

/** What the quality gauges read at scrape time (the QualityService). */
export interface RollingQualitySource {
  rollingQuality(): Promise<RollingQuality[]>;
}

/**
 * Registers the correction-quality gauges on `registry`, filled at scrape time from `source`:
 * `care_companion_correction_{recall,specificity,agreement}` and `care_companion_corrections`, with
 * labels task, model_version, window. Empty rates are not exported. Concurrent collects of one scrape
 * share one read.
 */
export function registerQualityMetrics(registry: Registry, source: RollingQualitySource): void {
  const labelNames = ['task', 'model_version', 'window'] as const;
  // eslint-disable-next-line prefer-const
  let refresh: () => Promise<void>;
  const gauges = {
    recall: new Gauge({
      name: 'care_companion_correction_recall',
      help: 'Recall (positive = any finding) measured against radiologist corrections',
      labelNames,
      registers: [],
      collect: () => refresh(),
    }),
    specificity: new Gauge({
      name: 'care_companion_correction_specificity',
      help: 'Specificity measured against radiologist corrections',
      labelNames,
      registers: [],
      collect: () => refresh(),
    }),
    agreement: new Gauge({
      name: 'care_companion_correction_agreement',
      help: 'Share of corrections whose label equals the model label',
      labelNames,
      registers: [],
      collect: () => refresh(),
    }),
    count: new Gauge({
      name: 'care_companion_corrections',
      help: 'Corrections counted in the window (latest per prediction)',
      labelNames,
      registers: [],
      collect: () => refresh(),
    }),
  };
  let pending: Promise<void> | null = null;
  refresh = () =>
    (pending ??= (async () => {
      try {
        for (const g of Object.values(gauges)) g.reset();
        for (const q of await source.rollingQuality()) {
          const labels = { task: q.task, model_version: q.modelVersion, window: q.window };
          gauges.count.set(labels, q.corrections);
          if (q.recall !== null) gauges.recall.set(labels, q.recall);
          if (q.specificity !== null) gauges.specificity.set(labels, q.specificity);
          if (q.agreement !== null) gauges.agreement.set(labels, q.agreement);
        }
      } finally {
        pending = null;
      }
    })());
  for (const g of Object.values(gauges)) registry.registerMetric(g);
}
