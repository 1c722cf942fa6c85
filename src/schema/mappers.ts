import { ROLE_PERMISSIONS } from '../auth/policy';
import type { AnalysisJob } from '../domain/analysis/analysis-job.entity';
import type { DicomImportType } from './pacs.types';
import type { AuditEvent } from '../domain/audit/audit-event.entity';
import type { Correction } from '../domain/correction/correction.entity';
import type { DriftAlert } from '../domain/drift/drift-alert.entity';
import type { Image } from '../domain/image/image.entity';
import type { ModelLineage } from '../domain/model-version/model-lineage.service';
import type { ModelStageChange } from '../domain/model-version/model-stage-change.entity';
import type { ModelVersion } from '../domain/model-version/model-version.entity';
import type { ClinicalNote } from '../domain/note/clinical-note.entity';
import type { Patient } from '../domain/patient/patient.entity';
import type { Prediction } from '../domain/prediction/prediction.entity';
import type { PredictionReview } from '../domain/read/read.service';
import type { ComparedFinding } from '../domain/read/radiologist-review';
import type { StudyRead } from '../domain/read/study-read.entity';
import {
  GateVerdict,
  ImageView,
  ReadingOutcome,
  ReferenceLabelSource,
  ReviewAgreement,
  ThresholdSource,
} from '../domain/enums';
import { FinalReadType, PredictionReviewType, ReadFindingType } from './read.types';
import type { Study } from '../domain/study/study.entity';
import type { TrainingRun } from '../domain/training-run/training-run.entity';
import type { Upload } from '../domain/upload/upload.entity';
import type { User } from '../domain/user/user.entity';
import {
  AnalysisJobType,
  AuditEventType,
  ClinicalNoteType,
  CorrectionType,
  DriftAlertType,
  ImageType,
  ModelVersionType,
  PatientType,
  PredictionType,
  StudyType,
  TrainingRunType,
  UploadReceiptType,
  UserType,
} from './types';
import { AI_ASSISTANCE_WARNING } from '../domain/prediction/ai-assistance';
import { ModelLineageType, ModelStageChangeType, RegistryActorType } from './model-registry.types';
import { siteIdOf } from '../domain/site/site-serving';
import type { Site } from '../domain/site/site.entity';
import type { SiteEvaluation } from '../domain/site/site-evaluation.entity';
import type { SiteOperatingPoint } from '../domain/site/site-operating-point.entity';
import type { SiteRolloutGate } from '../domain/site/site-rollout-gate.entity';
import type { SiteValidationStatus, ValidationSetSummary } from '../domain/site/site-validation.service';
import type { StudySnapshot } from '../domain/shared/events';
import type { Estimate } from '../training/metrics';
import type { SiteThreshold } from '../training/site-calibration';
import {
  SiteEvaluationType,
  SiteOperatingPointType,
  SiteRolloutGateType,
  SiteType,
  SiteValidationSetType,
  SiteValidationType,
} from './site.types';

/** Entity → GraphQL type mappers: the only path from a row to the API, so no column leaks by accident. */
export const toUser = (u: User): UserType =>
  Object.assign(new UserType(), {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    active: u.active,
    permissions: [...ROLE_PERMISSIONS[u.role]],
    createdAt: u.createdAt,
  });

export const toPatient = (p: Patient): PatientType =>
  Object.assign(new PatientType(), {
    id: p.id,
    mrn: p.mrn,
    givenName: p.givenName,
    familyName: p.familyName,
    birthDate: p.birthDate ?? null,
    sex: p.sex,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  });

export const toStudy = (s: Study): StudyType =>
  Object.assign(new StudyType(), {
    id: s.id,
    patientId: s.patient.id,
    siteId: siteIdOf(s),
    bodyPart: s.bodyPart,
    priority: s.priority,
    status: s.status,
    accessionNumber: s.accessionNumber,
    studyInstanceUid: s.studyInstanceUid ?? null,
    description: s.description ?? null,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  });

/** A study as a STUDY_CHANGED event carried it (its state at the event). */
export const toStudyAtEvent = (s: StudySnapshot): StudyType =>
  Object.assign(new StudyType(), {
    ...s,
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
  });

export const toImage = (i: Image): ImageType =>
  Object.assign(new ImageType(), {
    id: i.id,
    studyId: i.study.id,
    view: i.view,
    format: i.format,
    width: i.width,
    height: i.height,
    bitsStored: i.bitsStored,
    photometric: i.photometric,
    transferSyntaxUid: i.transferSyntaxUid ?? null,
    sha256: i.sha256,
    sizeBytes: i.sizeBytes,
    dicomAttributes: i.dicomAttributes ?? null,
    url: `/images/${i.id}`,
    intakeOverride: i.intakeOverride
      ? {
          accepted: i.intakeOverride.checks,
          reason: i.intakeOverride.reason,
          userId: i.intakeOverride.userId,
          at: new Date(i.intakeOverride.at),
        }
      : null,
    createdAt: i.createdAt,
  });

export const toUploadReceipt = (u: Upload): UploadReceiptType =>
  Object.assign(new UploadReceiptType(), {
    uploadId: u.id,
    sha256: u.sha256,
    format: u.format,
    width: u.metadata.width,
    height: u.metadata.height,
    bitsStored: u.metadata.bitsStored,
  });

/** The primary answer of a reading: flagged when any finding reached its operating point. */
export function outcomeOf(p: Pick<Prediction, 'gateVerdict' | 'findings'>): ReadingOutcome {
  if (p.gateVerdict !== GateVerdict.ACCEPTED) return ReadingOutcome.NOT_READ;
  return p.findings.length > 0 ? ReadingOutcome.FLAGGED_FOR_REVIEW : ReadingOutcome.NOTHING_FLAGGED;
}

/** Every finding with its operating point (readings made before thresholds were recorded: the flagged ones). */
function assessmentsOf(p: Prediction) {
  if (p.gateVerdict !== GateVerdict.ACCEPTED) return [];
  const flagged = new Map(p.findings.map((f) => [f.label, f]));
  const thresholds = Object.keys(p.thresholds ?? {}).length
    ? p.thresholds
    : Object.fromEntries(p.findings.map((f) => [f.label, f.threshold]));
  return Object.entries(thresholds).map(([label, threshold]) => ({
    label,
    probability: p.probabilities[label] ?? flagged.get(label)?.probability ?? 0,
    threshold,
    flagged: flagged.has(label),
  }));
}

export const toPrediction = (p: Prediction): PredictionType =>
  Object.assign(new PredictionType(), {
    id: p.id,
    studyId: p.study.id,
    modelVersionId: p.modelVersion?.id ?? null,
    gateVerdict: p.gateVerdict,
    outcome: outcomeOf(p),
    flagged: outcomeOf(p) === ReadingOutcome.FLAGGED_FOR_REVIEW,
    assessments: assessmentsOf(p),
    inputs: (p.inputs ?? []).map((i, k) => ({
      imageId: i.imageId,
      sha256: i.sha256,
      view: i.view as ImageView,
      gateVerdict: i.gateVerdict ?? null,
      probability: i.probability ?? null,
      flagged: i.flagged ?? null,
      heatmapUrl: i.heatmapKey || i.cam ? `/predictions/${p.id}/heatmap?view=${k}` : null,
    })),
    rereadOfId: p.rereadOf?.id ?? null,
    label: p.label ?? null,
    probabilities: Object.entries(p.probabilities).map(([label, probability]) => ({ label, probability })),
    findings: p.findings,
    heatmapUrl: p.heatmapKey || p.cam ? `/predictions/${p.id}/heatmap` : null,
    siteValidated: p.siteValidated ?? false,
    siteOperatingPointId: p.siteOperatingPoint?.id ?? null,
    timings: p.timings,
    route: p.route,
    warning: p.warning,
    explanation: p.explanation ?? null,
    createdAt: p.createdAt,
  });

export const toCorrection = (c: Correction): CorrectionType =>
  Object.assign(new CorrectionType(), {
    id: c.id,
    predictionId: c.prediction.id,
    label: c.label,
    comment: c.comment ?? null,
    createdById: c.createdBy?.id ?? null,
    predictedLabel: c.predictedLabel ?? null,
    modelVersionId: c.modelVersion?.id ?? null,
    retrainingCopies: c.retrainingObjectKeys.length,
    retrainingExcludedReason: c.retrainingExcludedReason ?? null,
    createdAt: c.createdAt,
  });

export const toNote = (n: ClinicalNote): ClinicalNoteType =>
  Object.assign(new ClinicalNoteType(), {
    id: n.id,
    predictionId: n.prediction.id,
    audience: n.audience,
    language: n.language,
    body: n.body,
    status: n.status,
    backend: n.backend,
    safetyChecks: n.safetyChecks,
    releasable: (n.safetyChecks as { passed?: unknown }).passed === true,
    source: n.source,
    statedFindings: n.statedFindings ?? [],
    invalidatedAt: n.invalidatedAt ?? null,
    invalidationReason: n.invalidationReason ?? null,
    failedChecks: ((n.safetyChecks as { checks?: { name: string; passed: boolean }[] }).checks ?? [])
      .filter((c) => !c.passed)
      .map((c) => c.name),
    warning: AI_ASSISTANCE_WARNING,
    approvedAt: n.approvedAt ?? null,
    createdAt: n.createdAt,
  });

export const toModelVersion = (m: ModelVersion): ModelVersionType =>
  Object.assign(new ModelVersionType(), {
    id: m.id,
    task: m.task,
    version: m.version,
    stage: m.stage,
    trafficShare: m.trafficShare,
    artifactPath: m.artifactPath,
    manifestSha256: m.manifestSha256 ?? null,
    metrics: m.metrics ?? null,
    promotedAt: m.promotedAt ?? null,
    parentId: m.parent?.id ?? null,
    trainingRunId: m.trainingRun?.id ?? null,
    previousProductionId: m.previousProduction?.id ?? null,
    createdAt: m.createdAt,
  });

export const toTrainingRun = (r: TrainingRun): TrainingRunType =>
  Object.assign(new TrainingRunType(), {
    id: r.id,
    task: r.task,
    status: r.status,
    parameters: r.parameters,
    codeVersion: r.codeVersion ?? null,
    manifestSha256: r.manifestSha256 ?? null,
    datasetCounts: r.datasetCounts ?? null,
    metrics: r.metrics ?? null,
    gateVerdict: r.gateVerdict ?? null,
    startedAt: r.startedAt ?? null,
    finishedAt: r.finishedAt ?? null,
    error: r.error ?? null,
    trigger: r.trigger,
    runner: r.runner ?? null,
    candidateVersion: r.candidateVersion ?? null,
    phase: r.phase ?? null,
    correctionsUsed: r.correctionsUsed,
    createdAt: r.createdAt,
  });

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

export const toAuditEvent = (a: AuditEvent): AuditEventType =>
  Object.assign(new AuditEventType(), {
    id: a.id,
    actorId: a.actorId ?? null,
    actorRole: a.actorRole ?? null,
    action: a.action,
    entityType: a.entityType,
    entityId: a.entityId ?? null,
    patientId: a.patientId ?? null,
    requestId: a.requestId ?? null,
    operation: a.operation ?? null,
    createdAt: a.createdAt,
  });

export const toAnalysisJob = (j: AnalysisJob): AnalysisJobType =>
  Object.assign(new AnalysisJobType(), {
    id: j.id,
    status: j.status,
    studyIds: j.studyIds,
    total: j.total,
    completed: j.completed,
    failed: j.failed,
    failures: Object.entries(j.failures ?? {}).map(([studyId, code]) => ({ studyId, code })),
    results: Object.entries(j.results ?? {}).map(([studyId, predictionId]) => ({ studyId, predictionId })),
    createdAt: j.createdAt,
    finishedAt: j.finishedAt ?? null,
  });

const toActor = (u: User | null | undefined): RegistryActorType | null =>
  u ? Object.assign(new RegistryActorType(), { id: u.id, displayName: u.displayName, role: u.role }) : null;

export const toModelStageChange = (c: ModelStageChange): ModelStageChangeType =>
  Object.assign(new ModelStageChangeType(), {
    id: c.id,
    kind: c.kind,
    fromStage: c.fromStage,
    toStage: c.toStage,
    trafficShare: c.trafficShare,
    actor: toActor(c.actor),
    createdAt: c.createdAt,
  });

export const toModelLineage = (l: ModelLineage): ModelLineageType => {
  const run = l.trainingRun;
  const seconds =
    run?.startedAt && run.finishedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : null;
  return Object.assign(new ModelLineageType(), {
    modelVersion: toModelVersion(l.version),
    parents: l.ancestors.map(toModelVersion),
    trainingRun: run ? toTrainingRun(run) : null,
    codeVersion: run?.codeVersion ?? null,
    trainingDurationSeconds: seconds,
    datasetManifestSha256: run?.manifestSha256 ?? l.version.manifestSha256 ?? null,
    datasetCounts: run?.datasetCounts ?? null,
    gateVerdict: run?.gateVerdict ?? null,
    metrics: l.version.metrics ?? null,
    promotedBy: toActor(l.promotedBy),
    promotedAt: l.version.promotedAt ?? null,
    stageChanges: l.stageChanges.map(toModelStageChange),
  });
};

/** An import result to its GraphQL type (counts, study ids, per-instance outcomes). */
export function toDicomImport(r: {
  studyInstanceUid: string;
  outcomes: {
    sopInstanceUid: string | null;
    status: string;
    failure?: { reason: number; code: string };
    studyId?: string;
  }[];
}): DicomImportType {
  const count = (s: string) => r.outcomes.filter((o) => o.status === s).length;
  return {
    studyInstanceUid: r.studyInstanceUid,
    stored: count('STORED'),
    alreadyStored: count('ALREADY_STORED'),
    failed: count('FAILED'),
    studyIds: [...new Set(r.outcomes.flatMap((o) => (o.studyId ? [o.studyId] : [])))],
    instances: r.outcomes.map((o) => ({
      sopInstanceUid: o.sopInstanceUid,
      status: o.status,
      code: o.failure?.code ?? null,
      failureReason: o.failure?.reason ?? null,
      studyId: o.studyId ?? null,
    })),
  };
}

const toReadFinding = (f: ComparedFinding): ReadFindingType => Object.assign(new ReadFindingType(), f);

/** A signed read, compared with the prediction it was read beside. */
export const toFinalRead = (
  r: StudyRead,
  compared: { findings: ComparedFinding[]; agreement: ReviewAgreement },
): FinalReadType =>
  Object.assign(new FinalReadType(), {
    id: r.id,
    studyId: r.study.id,
    predictionId: r.prediction?.id ?? null,
    version: r.version,
    status: r.status,
    label: r.label,
    findings: compared.findings.map(toReadFinding),
    agreement: compared.agreement,
    conclusion: r.conclusion ?? null,
    amendmentReason: r.amendmentReason ?? null,
    radiologistId: r.radiologist?.id ?? null,
    signedAt: r.createdAt,
  });

/** A radiologist's review of one prediction. */
export const toPredictionReview = (r: PredictionReview): PredictionReviewType =>
  Object.assign(new PredictionReviewType(), {
    source: r.truth.source,
    agreement: r.agreement,
    label: r.truth.label,
    findings: r.findings.map(toReadFinding),
    readId: r.truth.read?.id ?? null,
    correctionId: r.truth.correction?.id ?? null,
    reviewedById: r.truth.reviewedById,
    reviewedAt: r.truth.reviewedAt,
  });

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
