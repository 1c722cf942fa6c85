import { Counter, Gauge, Registry } from 'prom-client';
import type { DriftObserver } from '../domain/drift/drift.service';

/**
 * Prometheus view of drift detection: the last statistic and p-value per model version, signal and
 * window kind, and the alerts raised per model version and signal.
 */
export function createDriftMetrics(registry: Registry): DriftObserver {
  const labelNames = ['task', 'version', 'signal', 'window'];
  const statistic = new Gauge({
    name: 'care_companion_drift_statistic',
    help: 'Last drift statistic per model version and signal (MMD², KS D or PSI)',
    labelNames,
    registers: [registry],
  });
  const pValue = new Gauge({
    name: 'care_companion_drift_p_value',
    help: 'Last drift test p-value per model version and signal (tests that have one)',
    labelNames,
    registers: [registry],
  });
  const alerts = new Counter({
    name: 'care_companion_drift_alerts_total',
    help: 'Drift alerts raised per model version and signal',
    labelNames: ['task', 'version', 'signal'],
    registers: [registry],
  });
  return {
    tested: (labels, value, p) => {
      statistic.set(labels, value);
      if (p !== null) pValue.set(labels, p);
    },
    alertRaised: (labels) => alerts.inc(labels),
  };
}
