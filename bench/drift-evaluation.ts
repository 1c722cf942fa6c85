/**
 * Evaluation of the drift detector for `bench/drift.bench.ts`: window verdicts, windows drawn with a
 * source mix, and the false-alarm rate over many in-distribution windows.
 */
import {
  detectDrift,
  DRIFT_SIGNALS,
  DriftObservation,
  DriftThresholds,
  SignalResult,
} from '../src/monitoring/drift-detection/drift-detector';
import type { ReferenceProfile } from '../src/monitoring/drift-detection/reference-profile';
import { sampleRows } from '../src/monitoring/drift-detection/training-manifest';
import { mixedCounts } from '../test/support/drift-films';

/** A held-out film's drift record and where it came from. */
export interface LabelledObservation {
  source: string;
  observation: DriftObservation;
}

/** Per-signal summary of one window. */
export interface WindowVerdict {
  alarmed: boolean;
  drifted: string[];
  signals: Record<string, { value: number; pValue: number | null; drifted: boolean }>;
}

/** Summarises detector output for a window. */
export function verdictOf(results: SignalResult[]): WindowVerdict {
  const signals: WindowVerdict['signals'] = {};
  for (const r of results)
    signals[r.signal] = {
      value: Number(r.value.toPrecision(4)),
      pValue: r.pValue === null ? null : Number(r.pValue.toPrecision(3)),
      drifted: r.drifted,
    };
  const drifted = results.filter((r) => r.drifted).map((r) => r.signal);
  return { alarmed: drifted.length > 0, drifted, signals };
}

/**
 * Draws a window of `size` films whose source mix matches `mix` (proportions by source, e.g. the
 * training split's), without replacement within the window.
 */
export function mixedWindow(
  pool: readonly LabelledObservation[],
  mix: Record<string, number>,
  size: number,
  seed: number,
): DriftObservation[] {
  return Object.entries(mixedCounts(mix, size)).flatMap(([source, n], i) =>
    sampleRows(
      pool.filter((p) => p.source === source),
      n,
      seed * 31 + i,
    ).map((p) => p.observation),
  );
}

/** False-alarm counts over many in-distribution windows. */
export interface FalseAlarmReport {
  windows: number;
  windowSize: number;
  anySignal: { alarms: number; rate: number };
  pValueSignals: { alarms: number; rate: number };
  perSignal: Record<string, number>;
}

/** Runs the detector on `windows` in-distribution windows and counts the alarms. */
export function falseAlarmRate(
  profile: ReferenceProfile,
  pool: readonly LabelledObservation[],
  mix: Record<string, number>,
  thresholds: DriftThresholds,
  windows: number,
  windowSize: number,
): FalseAlarmReport {
  const perSignal: Record<string, number> = Object.fromEntries(DRIFT_SIGNALS.map((s) => [s.signal, 0]));
  let any = 0;
  let tested = 0;
  for (let w = 0; w < windows; w++) {
    const results = detectDrift(profile, mixedWindow(pool, mix, windowSize, 1000 + w), {
      ...thresholds,
      seed: thresholds.seed + w,
    });
    for (const r of results) if (r.drifted) perSignal[r.signal]!++;
    if (results.some((r) => r.drifted)) any++;
    if (results.some((r) => r.drifted && r.pValue !== null)) tested++;
  }
  return {
    windows,
    windowSize,
    anySignal: { alarms: any, rate: any / windows },
    pValueSignals: { alarms: tested, rate: tested / windows },
    perSignal,
  };
}
