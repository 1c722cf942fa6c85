import type { FilterQuery } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { NotFoundError, ValidationError } from '../../errors';
import { AuditEvent } from '../audit/audit-event.entity';
import { Correction } from '../correction/correction.entity';
import { DriftAlert } from '../drift/drift-alert.entity';
import { AuditAction, DriftAlertStatus, GateVerdict, ModelStage, ModelTask, NoteStatus } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { ClinicalNote } from '../note/clinical-note.entity';
import { Prediction } from '../prediction/prediction.entity';
import { TrainingRun } from '../training-run/training-run.entity';
import { compact, isUuid, rangeCondition } from './filters';
import { Page, PageArgs, paginate } from './pagination';
import type { RequestContext } from './request-context';

type Range = { from?: Date | null; to?: Date | null } | null;

function checkIds(ids: Record<string, string | null | undefined>): void {
  for (const [field, value] of Object.entries(ids)) {
    if (value && !isUuid(value)) throw new ValidationError(`${field} is not a valid id`, { field });
  }
}

/**
 * Read side of the records other features write (predictions, corrections, notes, the model registry,
 * training runs, drift alerts, the audit trail): permission checks, filters and audited reads.
 */
export class RecordsService {
  constructor(private readonly pageMax: number) {}

  /**
   * Asserts the caller may read the clinical content of AI readings (outcome, findings, probabilities,
   * heatmap): a role that reads the record without it gets FORBIDDEN on those fields alone.
   */
  assertClinicalRead(ctx: RequestContext): void {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
  }

  /**
   * Predictions, filterable by study, patient, model version, label, gate verdict and time. The record
   * needs READ_PATIENT_DATA; filtering by what the AI said (label) needs READ_PREDICTIONS.
   */
  async predictions(
    ctx: RequestContext,
    f: {
      studyId?: string | null;
      patientId?: string | null;
      modelVersionId?: string | null;
      label?: string | null;
      gateVerdict?: GateVerdict | null;
      createdAt?: Range;
    },
    page: PageArgs,
  ): Promise<Page<Prediction>> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    if (f.label) assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    checkIds({ studyId: f.studyId, patientId: f.patientId, modelVersionId: f.modelVersionId });
    const where = compact({
      study: f.studyId ?? (f.patientId ? { patient: f.patientId } : undefined),
      modelVersion: f.modelVersionId,
      label: f.label,
      gateVerdict: f.gateVerdict,
      createdAt: rangeCondition(f.createdAt),
    }) as FilterQuery<Prediction>;
    const result = await paginate(ctx.em, Prediction, where, page, this.pageMax);
    const studies = await Promise.all(result.items.map((p) => ctx.loaders.studyById.load(p.study.id)));
    result.items.forEach((p, i) => ctx.audit.read('Prediction', p.id, studies[i]?.patient.id ?? null));
    return result;
  }

  /** One prediction (audited); its clinical fields need READ_PREDICTIONS besides. */
  async prediction(ctx: RequestContext, id: string): Promise<Prediction> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const p = isUuid(id) ? await ctx.em.findOne(Prediction, { id }, { populate: ['study'] }) : null;
    if (!p) throw NotFoundError.of('Prediction', id);
    ctx.audit.read('Prediction', p.id, p.study.patient.id);
    return p;
  }

  /** Predictions of one study, batched (audited). */
  async predictionsForStudy(ctx: RequestContext, studyId: string, patientId: string): Promise<Prediction[]> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const rows = await ctx.loaders.predictionsByStudyId.load(studyId);
    for (const p of rows) ctx.audit.read('Prediction', p.id, patientId);
    return rows;
  }

  /** Corrections, optionally of one prediction. */
  async corrections(
    ctx: RequestContext,
    f: { predictionId?: string | null },
    page: PageArgs,
  ): Promise<Page<Correction>> {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    checkIds({ predictionId: f.predictionId });
    return paginate(
      ctx.em,
      Correction,
      compact({ prediction: f.predictionId }) as FilterQuery<Correction>,
      page,
      this.pageMax,
    );
  }

  /**
   * Clinical notes (audited reads). Integrators see released notes only: approved, and approved then
   * invalidated by a later read (status INVALIDATED, with the reason), so they can retract them.
   */
  async notes(
    ctx: RequestContext,
    f: { predictionId?: string | null; status?: NoteStatus | null },
    page: PageArgs,
  ): Promise<Page<ClinicalNote>> {
    const principal = assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    checkIds({ predictionId: f.predictionId });
    const released = principal.role === 'INTEGRATOR';
    const where = compact({ prediction: f.predictionId, status: f.status }) as Record<string, unknown>;
    if (released) where.approvedAt = { $ne: null };
    const result = await paginate(
      ctx.em,
      ClinicalNote,
      where as FilterQuery<ClinicalNote>,
      page,
      this.pageMax,
    );
    // A note is about one patient's study: its read is audited like the prediction's (two batched loads).
    await ctx.em.populate(result.items, ['prediction']);
    const studies = await Promise.all(
      result.items.map((n) => ctx.loaders.studyById.load(n.prediction.study.id)),
    );
    result.items.forEach((n, i) => ctx.audit.read('ClinicalNote', n.id, studies[i]?.patient.id ?? null));
    return result;
  }

  /** The model registry. */
  async modelVersions(
    ctx: RequestContext,
    f: { task?: ModelTask | null; stage?: ModelStage | null },
    page: PageArgs,
  ): Promise<Page<ModelVersion>> {
    assertPermission(ctx.principal, Permission.READ_MODELS);
    return paginate(
      ctx.em,
      ModelVersion,
      compact({ task: f.task, stage: f.stage }) as FilterQuery<ModelVersion>,
      page,
      this.pageMax,
    );
  }

  /** Training runs. */
  async trainingRuns(
    ctx: RequestContext,
    f: { task?: ModelTask | null },
    page: PageArgs,
  ): Promise<Page<TrainingRun>> {
    assertPermission(ctx.principal, Permission.READ_MODELS);
    return paginate(
      ctx.em,
      TrainingRun,
      compact({ task: f.task }) as FilterQuery<TrainingRun>,
      page,
      this.pageMax,
    );
  }

  /** Drift alerts. */
  async driftAlerts(
    ctx: RequestContext,
    f: { createdAt?: Range; status?: DriftAlertStatus | null },
    page: PageArgs,
  ): Promise<Page<DriftAlert>> {
    assertPermission(ctx.principal, Permission.READ_MONITORING);
    return paginate(
      ctx.em,
      DriftAlert,
      compact({
        createdAt: rangeCondition(f.createdAt),
        status: f.status ?? undefined,
      }) as FilterQuery<DriftAlert>,
      page,
      this.pageMax,
    );
  }

  /** The audit trail (admins only; never editable). */
  async auditEvents(
    ctx: RequestContext,
    f: {
      patientId?: string | null;
      actorId?: string | null;
      action?: AuditAction | null;
      entityType?: string | null;
      createdAt?: Range;
    },
    page: PageArgs,
  ): Promise<Page<AuditEvent>> {
    assertPermission(ctx.principal, Permission.READ_AUDIT);
    checkIds({ patientId: f.patientId, actorId: f.actorId });
    const where = compact({
      patientId: f.patientId,
      actorId: f.actorId,
      action: f.action,
      entityType: f.entityType,
      createdAt: rangeCondition(f.createdAt),
    }) as FilterQuery<AuditEvent>;
    return paginate(ctx.em, AuditEvent, where, page, this.pageMax);
  }
}
