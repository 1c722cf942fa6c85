import type { DriftAlert } from '../domain/drift/drift-alert.entity';
import { DriftAlertType } from './monitoring.types';

export const toDriftAlert = (d: DriftAlert): DriftAlertType =>
  Object.assign(new DriftAlertType(), {
    id: d.id,
    modelVersionId: d.modelVersion?.id ?? null,
    signal: d.signal,
    statistic: d.statistic,
    value: d.value,
    pValue: d.pValue ?? null,
    threshold: d.threshold,
    windowStart: d.windowStart,
    windowEnd: d.windowEnd,
    windowSize: d.windowSize,
    windowKind: d.windowKind,
    status: d.status,
    createdAt: d.createdAt,
  });
