import { GateVerdict, ReferenceLabelSource, ThresholdSource } from '../domain/enums';
import type { SiteEvaluation } from '../domain/site/site-evaluation.entity';
import type { SiteOperatingPoint } from '../domain/site/site-operating-point.entity';
import type { SiteRolloutGate } from '../domain/site/site-rollout-gate.entity';
import type { SiteValidationStatus, ValidationSetSummary } from '../domain/site/site-validation.service';
import type { Site } from '../domain/site/site.entity';
import type { Estimate } from '../training/classification-metrics';
import type { SiteThreshold } from '../training/site-calibration';
import { toModelVersion } from './model-registry.mappers';
import {
  SiteEvaluationType,
  SiteOperatingPointType,
  SiteRolloutGateType,
  SiteType,
  SiteValidationSetType,
  SiteValidationType,
} from './site.types';

export const toSite = (s: Site): SiteType =>
  Object.assign(new SiteType(), {
    id: s.id,
    code: s.code,
    name: s.name,
    isDefault: s.isDefault,
    createdAt: s.createdAt,
  });

const counted = (r: Record<string, number>) => Object.entries(r).map(([label, n]) => ({ label, n }));

export const toValidationSet = (v: ValidationSetSummary): SiteValidationSetType =>
  Object.assign(new SiteValidationSetType(), {
    siteId: v.siteId,
    task: v.task,
    n: v.n,
    patients: v.patients,
    counts: counted(v.counts),
    sources: Object.entries(v.sources).map(([source, n]) => ({ source: source as ReferenceLabelSource, n })),
  });

const toEstimate = (e: Estimate) => ({
  value: e.value,
  lower: e.ci95?.[0] ?? null,
  upper: e.ci95?.[1] ?? null,
  n: e.n,
});

const thresholdSource = (s: 'site' | 'shipped') =>
  s === 'site' ? ThresholdSource.SITE : ThresholdSource.SHIPPED;

const toThresholds = (t: Record<string, SiteThreshold>) =>
  Object.entries(t).map(([label, x]) => ({
    label,
    value: x.value,
    source: thresholdSource(x.source),
    targetRecall: x.targetRecall,
    nPositives: x.nPositives,
    orderStatisticK: x.orderStatisticK,
    guarantee: x.guarantee,
    positivesNeeded: x.positivesNeeded,
  }));

export const toSiteEvaluation = (e: SiteEvaluation): SiteEvaluationType => {
  const r = e.result ?? null;
  return Object.assign(new SiteEvaluationType(), {
    id: e.id,
    siteId: e.site.id,
    modelVersionId: e.modelVersion.id,
    task: e.task,
    status: e.status,
    trigger: e.trigger,
    targetRecall: e.targetRecall ?? null,
    n: r?.n ?? e.nItems,
    patients: r?.patients ?? null,
    counts: r ? counted(r.counts) : [],
    gateRefused: r
      ? {
          n: r.gateRefused.n,
          rate: r.gateRefused.rate,
          byVerdict: Object.entries(r.gateRefused.byVerdict).map(([verdict, n]) => ({
            verdict: verdict as GateVerdict,
            n,
          })),
        }
      : null,
    temperature: r?.temperature ?? null,
    ece: r?.ece ?? null,
    reliability: r?.reliability ?? [],
    findings: r
      ? Object.entries(r.findings).map(([label, f]) => ({
          label,
          auroc: toEstimate(f.auroc),
          shipped: {
            threshold: f.shipped.threshold,
            recall: toEstimate(f.shipped.recall),
            specificity: toEstimate(f.shipped.specificity),
            source: null,
          },
          site: {
            threshold: f.site.threshold,
            recall: toEstimate(f.site.recall),
            specificity: toEstimate(f.site.specificity),
            source: thresholdSource(f.site.source),
          },
          roc: f.roc,
        }))
      : [],
    proposedOperatingPoint: e.operatingPoint
      ? { temperature: e.operatingPoint.temperature, thresholds: toThresholds(e.operatingPoint.thresholds) }
      : null,
    skipped: e.skipped ?? [],
    error: e.error ?? null,
    errorDetails: e.errorDetails ?? null,
    createdAt: e.createdAt,
    startedAt: e.startedAt ?? null,
    finishedAt: e.finishedAt ?? null,
  });
};

export const toSiteOperatingPoint = (p: SiteOperatingPoint): SiteOperatingPointType =>
  Object.assign(new SiteOperatingPointType(), {
    id: p.id,
    siteId: p.site.id,
    modelVersionId: p.modelVersion.id,
    evaluationId: p.evaluation.id,
    temperature: p.temperature,
    thresholds: toThresholds(p.thresholds),
    approvedById: p.approvedBy?.id ?? null,
    approvedAt: p.createdAt,
    supersededAt: p.supersededAt ?? null,
  });

export const toSiteRolloutGate = (g: SiteRolloutGate): SiteRolloutGateType =>
  Object.assign(new SiteRolloutGateType(), {
    id: g.id,
    status: g.status,
    candidateId: g.candidate.id,
    fallbackId: g.fallback?.id ?? null,
    evaluationId: g.evaluation?.id ?? null,
    findings: g.findings ?? [],
    reason: g.reason ?? null,
    createdAt: g.createdAt,
    decidedAt: g.decidedAt ?? null,
  });

export const toSiteValidation = (v: SiteValidationStatus): SiteValidationType =>
  Object.assign(new SiteValidationType(), {
    site: toSite(v.site),
    modelVersion: toModelVersion(v.modelVersion),
    validated: v.validated,
    operatingPoint: v.operatingPoint ? toSiteOperatingPoint(v.operatingPoint) : null,
    latestEvaluation: v.latestEvaluation ? toSiteEvaluation(v.latestEvaluation) : null,
    rolloutGate: v.rolloutGate ? toSiteRolloutGate(v.rolloutGate) : null,
    validationSet: toValidationSet(v.validationSet),
  });
