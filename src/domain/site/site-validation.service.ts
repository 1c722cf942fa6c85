import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import {
  AppError,
  NotFoundError,
  SiteLabelsInvalidError,
  SiteOperatingPointError,
  SiteValidationSetError,
  ValidationError,
} from '../../errors';
import type { JobQueue, QueuedJob } from '../../jobs/job-queue';
import type { Logger } from '../../logging/logger';
import { Topic } from '../shared/events';
import {
  calibrateSite,
  withSiteOperatingPoint,
  type SiteItem,
  type SiteOperatingPoint as ProposedOperatingPoint,
} from '../../training/site-calibration';
import type { ValidationReading } from '../analysis/analysis.service';
import { NEGATIVE_CLASS, TASK_CLASSES } from '../correction/task-classes';
import {
  AuditAction,
  BodyPart,
  ModelTask,
  ReferenceLabelSource,
  SiteEvaluationStatus,
  SiteEvaluationTrigger,
  SiteRolloutGateStatus,
  SiteValidationChange,
} from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { AdvisoryLockKey, lockForTransaction } from '../shared/advisory-lock';
import type { EventPublisher } from '../shared/event-publisher';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { Image } from '../image/image.entity';
import { Study } from '../study/study.entity';
import { User } from '../user/user.entity';
import { SiteEvaluation } from './site-evaluation.entity';
import { SiteOperatingPoint } from './site-operating-point.entity';
import { decideGate } from './site-rollout-gate';
import { SiteRolloutGate } from './site-rollout-gate.entity';
import { siteIdOf } from './site-serving';
import { SiteValidationItem } from './site-validation-item.entity';
import { Site } from './site.entity';

/** Queue of site evaluations (one job per evaluation). */
const SITE_EVALUATION_QUEUE = 'site-evaluation';
/** Most studies one addSiteValidationStudies call imports. */
const MAX_IMPORT = 5000;

/** Port to the reading path: reads a site's studies with one version without storing anything. */
export interface SiteFilmReader {
  readForValidation(
    version: ModelVersion,
    studyIds: string[],
  ): Promise<{
    manifest: {
      classes: string[];
      temperature: number;
      thresholds: Record<string, { value: number; targetRecall: number }>;
    };
    readings: Map<string, ValidationReading>;
  }>;
}

/** Payload of SITE_VALIDATION_CHANGED (ids only). */
export interface SiteValidationChangedEvent {
  siteId: string;
  modelVersionId: string;
  task: ModelTask;
  change: SiteValidationChange;
  evaluationId: string | null;
}

/** The labelled studies of a site for one task, counted. */
export interface ValidationSetSummary {
  siteId: string;
  task: ModelTask;
  n: number;
  patients: number;
  counts: Record<string, number>;
  sources: Record<string, number>;
}

/** A site's validation status for one model version. */
export interface SiteValidationStatus {
  site: Site;
  modelVersion: ModelVersion;
  /** An approved site operating point is in force for this version at this site. */
  validated: boolean;
  operatingPoint: SiteOperatingPoint | null;
  latestEvaluation: SiteEvaluation | null;
  rolloutGate: SiteRolloutGate | null;
  validationSet: ValidationSetSummary;
}

/** One row of an import: a study already in the system and its reference label. */
export interface SiteLabelInput {
  studyId: string;
  label: string;
}

interface EvaluationJobData {
  siteEvaluationId: string;
}

const taskOf = (bodyPart: BodyPart) => (bodyPart === BodyPart.CHEST ? ModelTask.CHEST : ModelTask.WRIST);

/** Why a validation set cannot be evaluated, or null when it can (its negative class and a finding). */
function insufficiency(task: ModelTask, counts: Record<string, number>): 'EMPTY' | 'ONE_CLASS' | null {
  const labels = Object.keys(counts).filter((l) => counts[l]! > 0);
  if (labels.length === 0) return 'EMPTY';
  const negative = NEGATIVE_CLASS[task];
  return labels.includes(negative) && labels.some((l) => l !== negative) ? null : 'ONE_CLASS';
}

/** What an import is checked against: the studies it names, their items at the site, those with a film. */
interface ImportKnown {
  studyById: Map<string, Study>;
  itemByStudy: Map<string, SiteValidationItem>;
  filmed: Set<string>;
}

/**
 * Checks every row of an import before anything is stored; the first refused row throws
 * SITE_LABELS_INVALID naming it. Returns the rows' studies, tasks and normalised labels.
 */
function checkImport(
  siteId: string,
  rows: SiteLabelInput[],
  known: ImportKnown,
): { study: Study; task: ModelTask; label: string }[] {
  const refuse = (row: number, reason: string, message: string, extra: Record<string, string> = {}) =>
    new SiteLabelsInvalidError(`row ${row}: ${message}`, {
      row,
      reason,
      studyId: isUuid(rows[row]!.studyId) ? rows[row]!.studyId : null,
      ...extra,
    });
  const firstRow = new Map<string, number>();
  const patientLabel = new Map<string, { label: string; row: number }>();
  const checked: { study: Study; task: ModelTask; label: string }[] = [];
  rows.forEach((r, row) => {
    const study = isUuid(r.studyId) ? known.studyById.get(r.studyId) : undefined;
    if (!study) throw refuse(row, 'STUDY_NOT_FOUND', 'study not found');
    if (siteIdOf(study) !== siteId)
      throw refuse(row, 'OTHER_SITE', 'the study belongs to another site', { siteId: siteIdOf(study) });
    if (!known.filmed.has(study.id)) throw refuse(row, 'NO_FILMS', 'the study has no film to read');
    const task = taskOf(study.bodyPart);
    const label = r.label.trim().toUpperCase();
    if (!TASK_CLASSES[task].includes(label))
      throw refuse(
        row,
        'UNKNOWN_LABEL',
        `unknown label (a ${task} study is one of ${TASK_CLASSES[task].join(', ')})`,
      );
    const first = firstRow.get(study.id);
    if (first !== undefined)
      throw refuse(row, 'DUPLICATE', `duplicate of row ${first}`, { firstRow: String(first) });
    firstRow.set(study.id, row);
    const patient = study.patient.id;
    const before = patientLabel.get(patient);
    if (before && before.label !== label)
      throw refuse(
        row,
        'PATIENT_LABEL_CONFLICT',
        `the same patient is labelled otherwise in row ${before.row}`,
        {
          firstRow: String(before.row),
        },
      );
    patientLabel.set(patient, { label, row });
    const item = known.itemByStudy.get(study.id);
    if (item && item.label !== label)
      throw refuse(
        row,
        'LABEL_CONFLICT',
        `the study is already in the site's validation set with another label (${item.source})`,
        {
          source: item.source,
        },
      );
    checked.push({ study, task, label });
  });
  return checked;
}

/**
 * Site validation: a site's validation set (imported labels and radiologists' reads), evaluations of a
 * model version on it (durable jobs reading every labelled study through the server's own path, then
 * `calibrateSite`), approval of the site operating point they propose (admins, audited), and the
 * per-site rollout gate of a version promoted to PRODUCTION. Changes are published on
 * SITE_VALIDATION_CHANGED.
 */
export class SiteValidationService {
  constructor(
    private readonly rootEm: EntityManager,
    private readonly queue: JobQueue,
    private readonly reader: SiteFilmReader,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
    private readonly options: { resamples: number; expireInSeconds: number },
    /** Told when a site stops (or starts) being held on an older version, so serving can reload. */
    private readonly onHoldsChanged: () => Promise<unknown> = async () => undefined,
  ) {}

  // ---- the validation set ----

  /**
   * Adds labelled studies to a site's validation set (CURATE_SITE_VALIDATION: admins, radiologists).
   * Every row is checked before anything is stored: the study exists, belongs to the site and has a film,
   * the label is one of its task's classes, no study twice, one label per patient, and no study already
   * labelled otherwise (a radiologist's read of it wins). A refused import names its row
   * (SITE_LABELS_INVALID, `details.row`) and stores nothing. A study already labelled the same is left as
   * it is. Returns the site's set for each task the rows touched.
   */
  async addStudies(
    ctx: RequestContext,
    siteId: string,
    rows: SiteLabelInput[],
  ): Promise<ValidationSetSummary[]> {
    const principal = assertPermission(ctx.principal, Permission.CURATE_SITE_VALIDATION);
    const site = isUuid(siteId) ? await ctx.em.getRepository(Site).findOne({ id: siteId }) : null;
    if (!site) throw NotFoundError.of('Site', siteId);
    if (rows.length === 0 || rows.length > MAX_IMPORT)
      throw new ValidationError(`Import between 1 and ${MAX_IMPORT} studies`, {
        field: 'items',
        max: MAX_IMPORT,
      });
    const ids = rows.map((r) => r.studyId).filter(isUuid);
    const [studies, existing, filmed] = await Promise.all([
      ctx.em.getRepository(Study).findByIds(ids),
      ctx.em.getRepository(SiteValidationItem).findOfStudies(site.id, ids),
      ctx.em.getRepository(Image).studiesWithImages(ids),
    ]);
    const itemByStudy = new Map(existing.map((i) => [i.study.id, i]));
    const checked = checkImport(site.id, rows, {
      studyById: new Map(studies.map((st) => [st.id, st])),
      itemByStudy,
      filmed,
    });
    for (const { study, task, label } of checked) {
      if (itemByStudy.has(study.id)) continue;
      const item = ctx.em.create(SiteValidationItem, {
        site,
        study,
        task,
        label,
        source: ReferenceLabelSource.IMPORTED,
        labelledBy: ctx.em.getReference(User, principal.userId),
      } as SiteValidationItem);
      ctx.audit.write(ctx.em, {
        action: AuditAction.CREATE,
        entityType: 'SiteValidationItem',
        entityId: item.id,
        patientId: study.patient.id,
      });
    }
    await ctx.em.flush();
    const tasks = [...new Set(checked.map((c) => c.task))];
    return Promise.all(tasks.map((task) => this.summary(ctx.em, site.id, task)));
  }

  /**
   * Records a radiologist's read of a study (a signed read, an amendment or a correction) as the study's
   * reference label in its site's validation set, in the caller's unit of work: the read is the truth
   * from then on and replaces an imported label. The caller has checked the radiologist's permission.
   */
  async recordRead(
    em: EntityManager,
    read: { study: Study; task: ModelTask; label: string; userId: string; source: ReferenceLabelSource },
  ): Promise<void> {
    const siteId = siteIdOf(read.study);
    const item =
      (await em.getRepository(SiteValidationItem).findOfStudy(siteId, read.study.id)) ??
      em.create(SiteValidationItem, {
        site: em.getReference(Site, siteId),
        study: read.study,
        task: read.task,
      } as SiteValidationItem);
    item.label = read.label;
    item.source = read.source;
    item.labelledBy = em.getReference(User, read.userId);
  }

  /** The labelled studies of a site for one task, counted by label, source and patient. */
  async summary(em: EntityManager, siteId: string, task: ModelTask): Promise<ValidationSetSummary> {
    const rows = await em.getRepository(SiteValidationItem).countBySiteAndTask(siteId, task);
    const counts: Record<string, number> = {};
    const sources: Record<string, number> = {};
    let n = 0;
    let patients = 0;
    for (const r of rows) {
      if (r.label === null) {
        n = r.n;
        patients = r.patients;
      } else if (r.source === null) counts[r.label] = r.n;
      else sources[r.source] = (sources[r.source] ?? 0) + r.n;
    }
    return { siteId, task, n, patients, counts, sources };
  }

  // ---- evaluations ----

  /**
   * Queues an evaluation of a model version on a site's validation set (MANAGE_MODELS: admins, audited).
   * Refused with SITE_VALIDATION_SET_INSUFFICIENT when the set is empty or holds one class only.
   */
  async requestEvaluation(
    ctx: RequestContext,
    siteId: string,
    modelVersionId: string,
    targetRecall?: number | null,
  ): Promise<SiteEvaluation> {
    const principal = assertPermission(ctx.principal, Permission.MANAGE_MODELS);
    const [site, version] = await Promise.all([
      isUuid(siteId) ? ctx.em.getRepository(Site).findOne({ id: siteId }) : null,
      isUuid(modelVersionId) ? ctx.em.getRepository(ModelVersion).findOne({ id: modelVersionId }) : null,
    ]);
    if (!site) throw NotFoundError.of('Site', siteId);
    if (!version) throw NotFoundError.of('ModelVersion', modelVersionId);
    if (targetRecall !== undefined && targetRecall !== null && !(targetRecall > 0 && targetRecall < 1))
      throw new ValidationError('targetRecall must be between 0 and 1', { field: 'targetRecall' });
    const set = await this.summary(ctx.em, site.id, version.task);
    const short = insufficiency(version.task, set.counts);
    if (short)
      throw new SiteValidationSetError(
        short === 'EMPTY'
          ? 'The site has no labelled studies for this task'
          : `The site's validation set holds one class only: it needs ${NEGATIVE_CLASS[version.task]} studies and studies with a finding`,
        { siteId: site.id, task: version.task, reason: short },
      );
    const evaluation = ctx.em.create(SiteEvaluation, {
      site,
      modelVersion: version,
      task: version.task,
      trigger: SiteEvaluationTrigger.REQUESTED,
      requestedBy: ctx.em.getReference(User, principal.userId),
      targetRecall: targetRecall ?? null,
    } as SiteEvaluation);
    ctx.audit.write(ctx.em, {
      action: AuditAction.CREATE,
      entityType: 'SiteEvaluation',
      entityId: evaluation.id,
    });
    await ctx.em.flush();
    await this.enqueue([evaluation]);
    return evaluation;
  }

  /** Starts evaluation workers in this process. */
  async startWorkers(concurrency: number): Promise<void> {
    await this.queue.work<EvaluationJobData>(
      SITE_EVALUATION_QUEUE,
      { concurrency, pollingIntervalSeconds: 1 },
      (job) => this.handle(job),
    );
  }

  /**
   * Runs one evaluation: reads every labelled study of the site for the version's task, measures the
   * version on them and proposes the site operating point; then decides a pending rollout gate of the
   * version at the site. A permanent failure (or the last attempt's) is recorded on the evaluation, and
   * a gate waiting for it fails: the site keeps its previous version.
   */
  async handle(job: QueuedJob<EvaluationJobData>): Promise<void> {
    const em = this.rootEm.fork();
    const evaluation = await em
      .getRepository(SiteEvaluation)
      .findWithSiteAndVersion(job.data.siteEvaluationId);
    if (!evaluation) return;
    if (
      evaluation.status === SiteEvaluationStatus.SUCCEEDED ||
      evaluation.status === SiteEvaluationStatus.FAILED
    )
      return;
    evaluation.status = SiteEvaluationStatus.RUNNING;
    evaluation.startedAt = new Date();
    await em.flush();
    try {
      await this.evaluate(em, evaluation);
    } catch (error) {
      const permanent = error instanceof AppError && error.httpStatus < 500;
      if (!permanent && job.retryCount < job.retryLimit) throw error;
      this.logger.warn(
        { siteEvaluationId: evaluation.id, err: (error as Error).message },
        'site evaluation failed',
      );
      await this.fail(
        em,
        evaluation,
        error instanceof AppError ? error.code : 'INTERNAL_ERROR',
        error instanceof AppError ? { ...error.details } : {},
      );
    }
  }

  private async evaluate(em: EntityManager, evaluation: SiteEvaluation): Promise<void> {
    const version = evaluation.modelVersion;
    const items = await em
      .getRepository(SiteValidationItem)
      .findForEvaluation(evaluation.site.id, evaluation.task);
    const { manifest, readings } = await this.reader.readForValidation(
      version,
      items.map((i) => i.study.id),
    );
    const read: SiteItem[] = [];
    const skipped: { studyId: string; code: string }[] = [];
    for (const item of items) {
      const r = readings.get(item.study.id);
      if (!r || 'error' in r) skipped.push({ studyId: item.study.id, code: r?.error ?? 'NOT_READ' });
      else
        read.push({
          ref: item.study.id,
          label: item.label,
          group: item.study.patient.id,
          logits: r.logits,
          gateVerdict: r.gateVerdict,
        });
    }
    const counts: Record<string, number> = {};
    for (const r of read) counts[r.label] = (counts[r.label] ?? 0) + 1;
    const short = insufficiency(evaluation.task, counts);
    if (short) {
      evaluation.skipped = skipped;
      throw new SiteValidationSetError('The studies that could be read do not support an evaluation', {
        siteId: evaluation.site.id,
        task: evaluation.task,
        reason: short,
        skipped: skipped.length,
      });
    }
    const { evaluation: result, operatingPoint } = calibrateSite(read, manifest.classes, manifest, {
      targetRecall: evaluation.targetRecall ?? undefined,
      resamples: this.options.resamples,
    });
    evaluation.result = result;
    evaluation.operatingPoint = operatingPoint;
    evaluation.nItems = read.length;
    evaluation.skipped = skipped;
    evaluation.status = SiteEvaluationStatus.SUCCEEDED;
    evaluation.finishedAt = new Date();
    const gate = await this.openGate(em, evaluation.site.id, version.id);
    let gateChange: SiteValidationChange | null = null;
    if (gate) {
      const points = await em
        .getRepository(SiteOperatingPoint)
        .findInForceAtSite(evaluation.site.id, evaluation.task);
      const approved = points.find((p) => p.modelVersion.id === gate.fallback?.id) ?? points[0];
      const decision = approved ? decideGate(approved.thresholds, result) : { passed: true, findings: [] };
      gate.status = decision.passed ? SiteRolloutGateStatus.PASSED : SiteRolloutGateStatus.FAILED;
      gate.findings = decision.findings;
      gate.reason = approved ? null : 'NO_APPROVED_OPERATING_POINT';
      gate.evaluation = evaluation;
      gate.decidedAt = new Date();
      gateChange = decision.passed
        ? SiteValidationChange.ROLLOUT_GATE_PASSED
        : SiteValidationChange.ROLLOUT_GATE_FAILED;
    }
    await em.flush();
    this.publish(evaluation, SiteValidationChange.EVALUATION_SUCCEEDED);
    if (gateChange) {
      this.publish(evaluation, gateChange);
      if (gateChange === SiteValidationChange.ROLLOUT_GATE_PASSED) await this.holdsChanged();
    }
  }

  private async fail(
    em: EntityManager,
    evaluation: SiteEvaluation,
    code: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    evaluation.status = SiteEvaluationStatus.FAILED;
    evaluation.error = code;
    evaluation.errorDetails = details;
    evaluation.finishedAt = new Date();
    const gate = await this.openGate(em, evaluation.site.id, evaluation.modelVersion.id);
    if (gate && gate.status === SiteRolloutGateStatus.PENDING) {
      gate.status = SiteRolloutGateStatus.FAILED;
      gate.reason = code;
      gate.evaluation = evaluation;
      gate.decidedAt = new Date();
    }
    await em.flush();
    this.publish(evaluation, SiteValidationChange.EVALUATION_FAILED);
    if (gate) this.publish(evaluation, SiteValidationChange.ROLLOUT_GATE_FAILED);
  }

  /** The gate of a version at a site that has not passed (pending, or failed and re-evaluated). */
  private openGate(em: EntityManager, siteId: string, modelVersionId: string) {
    return em.getRepository(SiteRolloutGate).findOpen(siteId, modelVersionId);
  }

  private async enqueue(evaluations: SiteEvaluation[]): Promise<void> {
    if (!evaluations.length) return;
    try {
      await this.queue.enqueue(
        SITE_EVALUATION_QUEUE,
        evaluations.map((e) => ({ siteEvaluationId: e.id })),
        { retryLimit: 2, expireInSeconds: this.options.expireInSeconds },
      );
    } catch (error) {
      const em = this.rootEm.fork();
      for (const e of evaluations) {
        const fresh = await em.getRepository(SiteEvaluation).findWithSiteAndVersion(e.id);
        if (fresh) await this.fail(em, fresh, 'NOT_QUEUED', {});
      }
      throw error;
    }
    for (const e of evaluations) this.publish(e, SiteValidationChange.EVALUATION_QUEUED);
  }

  // ---- approval ----

  /**
   * Approves the site operating point an evaluation proposes (MANAGE_MODELS: admins, audited): from now
   * on the site's predictions by that version use its temperature and thresholds and say so
   * (`siteValidated`). It supersedes the point in force for the version at the site, and passes the
   * version's rollout gate there. Refused (SITE_OPERATING_POINT_NOT_APPROVABLE) unless the evaluation
   * succeeded and at least one finding's threshold was chosen on the site's positives.
   */
  async approve(ctx: RequestContext, evaluationId: string): Promise<SiteOperatingPoint> {
    const principal = assertPermission(ctx.principal, Permission.MANAGE_MODELS);
    const evaluation = isUuid(evaluationId)
      ? await ctx.em.getRepository(SiteEvaluation).findWithSiteAndVersion(evaluationId)
      : null;
    if (!evaluation) throw NotFoundError.of('SiteEvaluation', evaluationId);
    const proposed = evaluation.operatingPoint;
    if (evaluation.status !== SiteEvaluationStatus.SUCCEEDED || !proposed)
      throw new SiteOperatingPointError('Only a succeeded evaluation proposes an operating point', {
        evaluationId: evaluation.id,
        status: evaluation.status,
      });
    const thresholds = Object.entries(proposed.thresholds);
    if (!thresholds.some(([, t]) => t.source === 'site'))
      throw new SiteOperatingPointError(
        'No finding has enough positives at this site for its guarantee: the shipped thresholds stay',
        {
          evaluationId: evaluation.id,
          needs: thresholds.map(([label, t]) => `${label}:${t.positivesNeeded}`),
        },
      );
    this.checkApplicable(proposed);
    const site = evaluation.site;
    const version = evaluation.modelVersion;
    const point = await this.rootEm.fork().transactional(async (em) => {
      // One approval per site and version at a time: the partial unique index holds one in force.
      await lockForTransaction(
        em,
        AdvisoryLockKey.hashtextExtended(`site-operating-point:${site.id}:${version.id}`),
      );
      const current = await em.getRepository(SiteOperatingPoint).findInForce(site.id, version.id);
      if (current) {
        current.supersededAt = new Date();
        await em.flush();
      }
      const created = em.create(SiteOperatingPoint, {
        site: em.getReference(Site, site.id),
        modelVersion: em.getReference(ModelVersion, version.id),
        evaluation: em.getReference(SiteEvaluation, evaluation.id),
        temperature: proposed.temperature,
        thresholds: proposed.thresholds,
        approvedBy: em.getReference(User, principal.userId),
      } as SiteOperatingPoint);
      ctx.audit.write(em, {
        action: AuditAction.CREATE,
        entityType: 'SiteOperatingPoint',
        entityId: created.id,
      });
      const gate = await this.openGate(em, site.id, version.id);
      if (gate) {
        gate.status = SiteRolloutGateStatus.PASSED;
        gate.reason = 'OPERATING_POINT_APPROVED';
        gate.evaluation = em.getReference(SiteEvaluation, evaluation.id);
        gate.decidedAt = new Date();
      }
      await em.flush();
      return { created, gatePassed: Boolean(gate) };
    });
    this.publish(evaluation, SiteValidationChange.OPERATING_POINT_APPROVED);
    if (point.gatePassed) {
      this.publish(evaluation, SiteValidationChange.ROLLOUT_GATE_PASSED);
      await this.holdsChanged();
    }
    return ctx.em.getRepository(SiteOperatingPoint).findOneOrFail({ id: point.created.id });
  }

  /** Refuses a proposed point the reading path could not apply (an unknown finding, a bad value). */
  private checkApplicable(proposed: ProposedOperatingPoint): void {
    try {
      withSiteOperatingPoint(
        {
          temperature: 1,
          thresholds: Object.fromEntries(Object.keys(proposed.thresholds).map((k) => [k, { value: 0 }])),
        },
        proposed,
      );
    } catch (error) {
      throw new SiteOperatingPointError('The proposed operating point is not valid', {}, { cause: error });
    }
  }

  // ---- reads ----

  /** A site's validation status for a model version (READ_SITE_VALIDATION: aggregates only, no patient data). */
  async status(ctx: RequestContext, siteId: string, modelVersionId: string): Promise<SiteValidationStatus> {
    assertPermission(ctx.principal, Permission.READ_SITE_VALIDATION);
    const [site, version] = await Promise.all([
      isUuid(siteId) ? ctx.em.getRepository(Site).findOne({ id: siteId }) : null,
      isUuid(modelVersionId) ? ctx.em.getRepository(ModelVersion).findOne({ id: modelVersionId }) : null,
    ]);
    if (!site) throw NotFoundError.of('Site', siteId);
    if (!version) throw NotFoundError.of('ModelVersion', modelVersionId);
    return this.statusOf(ctx.em, site, version);
  }

  /** The status behind an event (READ_SITE_VALIDATION). */
  async statusOfEvent(ctx: RequestContext, event: SiteValidationChangedEvent): Promise<SiteValidationStatus> {
    return this.status(ctx, event.siteId, event.modelVersionId);
  }

  private async statusOf(
    em: EntityManager,
    site: Site,
    version: ModelVersion,
  ): Promise<SiteValidationStatus> {
    const [operatingPoint, latestEvaluation, rolloutGate, validationSet] = await Promise.all([
      em.getRepository(SiteOperatingPoint).findInForce(site.id, version.id),
      em.getRepository(SiteEvaluation).findLatest(site.id, version.id),
      em.getRepository(SiteRolloutGate).findOfCandidate(site.id, version.id),
      this.summary(em, site.id, version.task),
    ]);
    return {
      site,
      modelVersion: version,
      validated: operatingPoint !== null,
      operatingPoint,
      latestEvaluation,
      rolloutGate,
      validationSet,
    };
  }

  /** One evaluation (READ_SITE_VALIDATION), e.g. the one an operating point rests on. */
  async evaluation(ctx: RequestContext, id: string): Promise<SiteEvaluation> {
    assertPermission(ctx.principal, Permission.READ_SITE_VALIDATION);
    const evaluation = isUuid(id) ? await ctx.em.getRepository(SiteEvaluation).findOne({ id }) : null;
    if (!evaluation) throw NotFoundError.of('SiteEvaluation', id);
    return evaluation;
  }

  /**
   * The site operating point a prediction used (READ_PREDICTIONS: which thresholds an AI reading used is
   * part of its clinical content), or null when it used the shipped ones. Batched per request.
   */
  async operatingPointOfPrediction(
    ctx: RequestContext,
    pointId: string | null,
  ): Promise<SiteOperatingPoint | null> {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    return pointId ? ctx.loaders.siteOperatingPointById.load(pointId) : null;
  }

  // ---- the per-site rollout gate ----

  /**
   * Called in the promotion's transaction when `promoted` becomes PRODUCTION of its task, replacing
   * `replaced`. At every site with an approved operating point for the task, a gate holds the site on the
   * version that served it (PENDING) until `promoted` is evaluated there; every site whose validation set
   * can be evaluated gets an evaluation of `promoted`. Returns what to do after the commit (queue the
   * evaluations, publish).
   */
  async onPromotion(
    em: EntityManager,
    promoted: ModelVersion,
    replaced: ModelVersion | null,
  ): Promise<() => Promise<void>> {
    const task = promoted.task;
    const { gates, targets } = await this.holdGatedSites(em, promoted, replaced);
    const evaluations = await this.evaluateOnPromotion(em, promoted, targets);
    await em.flush();
    return async () => {
      for (const g of gates)
        this.events.publish(Topic.SITE_VALIDATION_CHANGED, {
          siteId: g.siteId,
          modelVersionId: promoted.id,
          task,
          change:
            g.status === SiteRolloutGateStatus.PASSED
              ? SiteValidationChange.ROLLOUT_GATE_PASSED
              : SiteValidationChange.ROLLOUT_GATE_PENDING,
          evaluationId: null,
        } satisfies SiteValidationChangedEvent as unknown as Record<string, unknown>);
      await this.enqueue(evaluations).catch((error: Error) =>
        this.logger.error({ err: error.message }, 'site evaluations of a promotion could not be queued'),
      );
    };
  }

  /**
   * At every site with an approved operating point for the promoted version's task, holds the site on
   * the version that serves it (a PENDING gate) unless a point is already approved for the promoted one.
   * Returns the gates set and, by site, the recall its approved point was chosen for.
   */
  private async holdGatedSites(
    em: EntityManager,
    promoted: ModelVersion,
    replaced: ModelVersion | null,
  ): Promise<{
    gates: { siteId: string; status: SiteRolloutGateStatus }[];
    targets: Map<string, number | null>;
  }> {
    const task = promoted.task;
    const points = await em.getRepository(SiteOperatingPoint).findInForceOfTask(task);
    const gatedSites = new Set(
      points
        .filter((p) => Object.values(p.thresholds).some((t) => t.source === 'site'))
        .map((p) => p.site.id),
    );
    const gates: { siteId: string; status: SiteRolloutGateStatus }[] = [];
    // A gated site's evaluation aims at the recall its approved point was chosen for.
    const targets = new Map<string, number | null>();
    for (const siteId of gatedSites) {
      // The version that serves the site now: the one it is held on, else the production being replaced.
      const held = replaced ? await em.getRepository(SiteRolloutGate).findOpen(siteId, replaced.id) : null;
      const fallback = held?.fallback ?? replaced;
      if (!fallback || fallback.id === promoted.id) continue;
      const approved =
        points.find((p) => p.site.id === siteId && p.modelVersion.id === fallback.id) ??
        points.find((p) => p.site.id === siteId)!;
      targets.set(siteId, approved.evaluation.targetRecall ?? null);
      const gate =
        (await em.getRepository(SiteRolloutGate).findOfCandidate(siteId, promoted.id)) ??
        em.create(SiteRolloutGate, {
          site: em.getReference(Site, siteId),
          task,
          candidate: promoted,
        } as SiteRolloutGate);
      // A point already approved for the promoted version at the site (while it was a canary) decides it.
      const approvedForPromoted = points.some(
        (p) => p.site.id === siteId && p.modelVersion.id === promoted.id,
      );
      gate.fallback = fallback;
      gate.status = approvedForPromoted ? SiteRolloutGateStatus.PASSED : SiteRolloutGateStatus.PENDING;
      gate.reason = approvedForPromoted ? 'OPERATING_POINT_APPROVED' : null;
      gate.evaluation = null;
      gate.findings = null;
      gate.decidedAt = approvedForPromoted ? new Date() : null;
      gates.push({ siteId, status: gate.status });
    }
    return { gates, targets };
  }

  /** Creates an evaluation of the promoted version at every site whose validation set can be evaluated. */
  private async evaluateOnPromotion(
    em: EntityManager,
    promoted: ModelVersion,
    targets: Map<string, number | null>,
  ): Promise<SiteEvaluation[]> {
    const task = promoted.task;
    const evaluable = await em.getRepository(SiteValidationItem).countLabelsBySite(task);
    const countsBySite = new Map<string, Record<string, number>>();
    for (const r of evaluable)
      countsBySite.set(r.site_id, { ...(countsBySite.get(r.site_id) ?? {}), [r.label]: r.n });
    const evaluations: SiteEvaluation[] = [];
    for (const [siteId, counts] of countsBySite) {
      if (insufficiency(task, counts)) continue;
      evaluations.push(
        em.create(SiteEvaluation, {
          site: em.getReference(Site, siteId),
          modelVersion: promoted,
          task,
          trigger: SiteEvaluationTrigger.PROMOTION,
          targetRecall: targets.get(siteId) ?? null,
        } as SiteEvaluation),
      );
    }
    return evaluations;
  }

  private publish(evaluation: SiteEvaluation, change: SiteValidationChange): void {
    const event: SiteValidationChangedEvent = {
      siteId: evaluation.site.id,
      modelVersionId: evaluation.modelVersion.id,
      task: evaluation.task,
      change,
      evaluationId: evaluation.id,
    };
    this.events.publish(Topic.SITE_VALIDATION_CHANGED, event as unknown as Record<string, unknown>);
  }

  private async holdsChanged(): Promise<void> {
    await this.onHoldsChanged().catch((error: Error) =>
      this.logger.warn({ err: error.message }, 'model serving could not follow a site rollout gate'),
    );
  }
}
