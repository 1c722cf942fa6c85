import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { InvalidStateError, NotFoundError, ValidationError } from '../../errors';
import { Topic } from '../shared/events';
import type { CorrectionService } from '../correction/correction.service';
import { AuditAction, GateVerdict, SIGNED_STATUSES, StudyStatus } from '../enums';
import { Image } from '../image/image.entity';
import { invalidateContradictedNotes } from '../note/note-invalidation';
import { Prediction } from '../prediction/prediction.entity';
import type { EventPublisher } from '../shared/event-publisher';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { studyChanged } from '../study/study-snapshot';
import { Study } from '../study/study.entity';
import { User } from '../user/user.entity';
import {
  classOfFindings,
  compareWithAi,
  ComparedFinding,
  findingLabels,
  RadiologistTruth,
  taskOf,
  truthOf,
} from './radiologist-review';
import { ReadFindingRecord, StudyRead } from './study-read.entity';

/** Longest conclusion accepted, in characters. */
const MAX_CONCLUSION = 4000;
/** Longest amendment reason accepted, in characters. */
const MAX_AMENDMENT_REASON = 2000;

/** What a radiologist states when signing or amending. */
export interface ReadInput {
  studyId: string;
  findings: ReadFindingRecord[];
  conclusion?: string | null;
}

/** A radiologist's review of one prediction: the truth and how it compares with the AI. */
export interface PredictionReview {
  truth: RadiologistTruth;
  findings: ComparedFinding[];
  agreement: ReturnType<typeof compareWithAi>['agreement'];
}

/** States from which a radiologist may open a study for reading (any study with images). */
const READABLE: readonly StudyStatus[] = [
  StudyStatus.IMAGES_ATTACHED,
  StudyStatus.ANALYZED,
  StudyStatus.FAILED,
  StudyStatus.IN_REVIEW,
];

/**
 * The reading workflow: a radiologist opens a study (IN_REVIEW), signs the final read (FINAL) and
 * amends it (AMENDED). A read states every finding of the task present or absent; it is recorded
 * with the served AI prediction it was read beside, and, when there is one, as that prediction's
 * correction (retraining copy, live quality: agreement included). Notes that state other findings are
 * invalidated in the same commit. Every step is audited and published on STUDY_CHANGED.
 */
export class ReadService {
  constructor(
    private readonly corrections: CorrectionService,
    private readonly events: EventPublisher,
  ) {}

  /** Opens a study for reading (radiologists): IN_REVIEW. */
  async startReview(ctx: RequestContext, studyId: string): Promise<Study> {
    assertPermission(ctx.principal, Permission.REPORT_STUDIES);
    const study = await this.findStudy(ctx, studyId);
    if (study.status === StudyStatus.IN_REVIEW) return study;
    if (!READABLE.includes(study.status))
      throw new InvalidStateError('Only a study with images that is not signed can be opened for reading', {
        studyId: study.id,
        status: study.status,
      });
    study.status = StudyStatus.IN_REVIEW;
    ctx.audit.write(ctx.em, {
      action: AuditAction.UPDATE,
      entityType: 'Study',
      entityId: study.id,
      patientId: study.patient.id,
    });
    await ctx.em.flush();
    this.publish(study, 'REVIEW_STARTED');
    return study;
  }

  /** Signs the final read of a study (radiologists): FINAL. */
  async sign(ctx: RequestContext, input: ReadInput): Promise<StudyRead> {
    assertPermission(ctx.principal, Permission.REPORT_STUDIES);
    const study = await this.findStudy(ctx, input.studyId);
    if (SIGNED_STATUSES.includes(study.status))
      throw new InvalidStateError('The study already has a signed final read: amend it instead', {
        studyId: study.id,
        status: study.status,
      });
    if (!READABLE.includes(study.status))
      throw new InvalidStateError('Only a study with images can be read', {
        studyId: study.id,
        status: study.status,
      });
    return this.record(ctx, study, input, null);
  }

  /** Amends the signed read of a study (radiologists): AMENDED, with the reason. */
  async amend(ctx: RequestContext, input: ReadInput & { reason: string }): Promise<StudyRead> {
    assertPermission(ctx.principal, Permission.REPORT_STUDIES);
    const reason = input.reason?.trim() ?? '';
    if (!reason || reason.length > MAX_AMENDMENT_REASON)
      throw new ValidationError(`reason is required (at most ${MAX_AMENDMENT_REASON} characters)`, {
        field: 'reason',
        max: MAX_AMENDMENT_REASON,
      });
    const study = await this.findStudy(ctx, input.studyId);
    if (!SIGNED_STATUSES.includes(study.status))
      throw new InvalidStateError('Only a signed final read can be amended', {
        studyId: study.id,
        status: study.status,
      });
    return this.record(ctx, study, input, reason);
  }

  /** The read in force of a study, or null (readers of results; batched). */
  async finalRead(ctx: RequestContext, studyId: string): Promise<StudyRead | null> {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    return ctx.loaders.readByStudyId.load(studyId);
  }

  /** The radiologist's review of a prediction, or null when there is none yet (readers of results; batched). */
  async review(
    ctx: RequestContext,
    prediction: {
      id: string;
      studyId: string;
      gateVerdict: GateVerdict;
      findings: { label: string }[] | null;
    },
  ): Promise<PredictionReview | null> {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    const [study, read, correction] = await Promise.all([
      ctx.loaders.studyById.load(prediction.studyId),
      ctx.loaders.readByStudyId.load(prediction.studyId),
      ctx.loaders.correctionByPredictionId.load(prediction.id),
    ]);
    if (!study) return null;
    const truth = truthOf(taskOf(study.bodyPart), read, correction);
    if (!truth) return null;
    return {
      truth,
      ...compareWithAi(truth.findings, {
        gateVerdict: prediction.gateVerdict,
        findings: prediction.findings ?? [],
      }),
    };
  }

  /** Compares a read with the prediction it was read beside. */
  compare(read: StudyRead): ReturnType<typeof compareWithAi> {
    return compareWithAi(read.findings, read.prediction ?? null);
  }

  private async record(
    ctx: RequestContext,
    study: Study,
    input: ReadInput,
    amendmentReason: string | null,
  ): Promise<StudyRead> {
    const principal = ctx.principal!;
    const task = taskOf(study.bodyPart);
    const findings = this.checkFindings(findingLabels(task), input.findings);
    const conclusion = input.conclusion?.trim() || null;
    if (conclusion && conclusion.length > MAX_CONCLUSION)
      throw new ValidationError(`conclusion is longer than ${MAX_CONCLUSION} characters`, {
        field: 'conclusion',
        max: MAX_CONCLUSION,
      });
    const [images, previous, prediction] = await Promise.all([
      ctx.em.getRepository(Image).countOfStudy(study.id),
      ctx.em.getRepository(StudyRead).findLatestOfStudy(study.id),
      ctx.em.getRepository(Prediction).findLatestServed(study.id),
    ]);
    if (images === 0) throw new InvalidStateError('The study has no images to read', { studyId: study.id });
    const version = (previous?.version ?? 0) + 1;
    const status = amendmentReason ? StudyStatus.AMENDED : StudyStatus.FINAL;
    const present = findings.filter((f) => f.present).map((f) => f.label);
    const read = ctx.em.create(StudyRead, {
      study,
      prediction: prediction ?? null,
      version,
      status,
      findings,
      label: classOfFindings(task, present),
      conclusion,
      amendmentReason,
      radiologist: ctx.em.getReference(User, principal.userId),
    } as StudyRead);
    study.status = status;
    ctx.audit.write(ctx.em, {
      action: AuditAction.CREATE,
      entityType: 'StudyRead',
      entityId: read.id,
      patientId: study.patient.id,
    });
    ctx.audit.write(ctx.em, {
      action: AuditAction.UPDATE,
      entityType: 'Study',
      entityId: study.id,
      patientId: study.patient.id,
    });
    await invalidateContradictedNotes(
      ctx.em,
      ctx.audit,
      { id: study.id, patientId: study.patient.id },
      present,
      amendmentReason
        ? `The radiologist amended the final read (version ${version}); it states other findings than this note.`
        : "The radiologist's final read states other findings than this note.",
    );
    // The read is the prediction's correction too (same commit): retraining copy and live quality.
    if (prediction) await this.corrections.submit(ctx, prediction.id, read.label, null, { fromRead: true });
    else await ctx.em.flush();
    this.publish(study, amendmentReason ? 'READ_AMENDED' : 'FINAL_READ_SIGNED');
    return read;
  }

  /** Every finding of the task stated exactly once, and nothing else. */
  private checkFindings(labels: string[], findings: ReadFindingRecord[]): ReadFindingRecord[] {
    const given = new Map<string, boolean>();
    for (const f of findings) {
      if (!labels.includes(f.label))
        throw new ValidationError(`findings may only name ${labels.join(', ')}`, {
          field: 'findings',
          allowed: labels,
        });
      if (given.has(f.label))
        throw new ValidationError('each finding may be stated once', { field: 'findings' });
      given.set(f.label, f.present);
    }
    const missing = labels.filter((l) => !given.has(l));
    if (missing.length)
      throw new ValidationError('state every finding of the task present or absent', {
        field: 'findings',
        missing,
      });
    return labels.map((label) => ({ label, present: given.get(label)! }));
  }

  private async findStudy(ctx: RequestContext, id: string): Promise<Study> {
    const study = isUuid(id) ? await ctx.em.getRepository(Study).findOne({ id }) : null;
    if (!study) throw NotFoundError.of('Study', id);
    return study;
  }

  private publish(study: Study, change: 'REVIEW_STARTED' | 'FINAL_READ_SIGNED' | 'READ_AMENDED'): void {
    this.events.publish(Topic.STUDY_CHANGED, studyChanged(study, change));
  }
}
