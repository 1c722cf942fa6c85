import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { AppError, InvalidStateError, NotFoundError, ValidationError } from '../../errors';
import type { Logger } from '../../logging/logger';
import { AuditAction, BodyPart, ModelTask, ReferenceLabelSource, SIGNED_STATUSES } from '../enums';
import { Image } from '../image/image.entity';
import { invalidateContradictedNotes } from '../note/note-invalidation';
import { Prediction } from '../prediction/prediction.entity';
import type { Study } from '../study/study.entity';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { User } from '../user/user.entity';
import { Correction } from './correction.entity';
import { RetrainingArea, RetrainingManifestRow } from '../training-run/retraining-area';
import { NEGATIVE_CLASS, TASK_CLASSES } from './task-classes';

/** Longest comment accepted, in characters. */
const MAX_CORRECTION_COMMENT = 2000;

/** Told after a correction commits (the retraining service counts corrections for its auto trigger). */
export type CorrectionListener = (task: ModelTask) => void;

/**
 * Where a radiologist's read of a study becomes its reference label (its site's validation set), in the
 * correction's unit of work.
 */
export interface ReferenceLabels {
  recordRead(
    em: EntityManager,
    read: { study: Study; task: ModelTask; label: string; userId: string; source: ReferenceLabelSource },
  ): Promise<void>;
}

/** The task a correction of a prediction is for; the label must be one of its classes (BAD_USER_INPUT). */
function taskOfLabel(prediction: Prediction, label: string): ModelTask {
  const task =
    prediction.modelVersion?.task ??
    (prediction.study.bodyPart === BodyPart.CHEST ? ModelTask.CHEST : ModelTask.WRIST);
  const classes = TASK_CLASSES[task];
  if (!classes.includes(label))
    throw new ValidationError(`label must be one of ${classes.join(', ')}`, {
      field: 'label',
      allowed: [...classes],
    });
  return task;
}

/**
 * Radiologists' corrections. `submit` stores who/what/when with a snapshot of what the model said,
 * copies the study's images de-identified into the retraining area under the true label, and
 * rewrites the task's manifest. Copies are written before the row commits and removed again if the
 * commit fails, so the area never holds a copy without its correction.
 */
export class CorrectionService {
  private manifestChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly rootEm: EntityManager,
    private readonly area: RetrainingArea,
    private readonly logger: Logger,
    private readonly listener: CorrectionListener = () => undefined,
    private readonly referenceLabels: ReferenceLabels | null = null,
  ) {}

  /**
   * Records a correction of a prediction (CORRECT_PREDICTIONS). Draft and approved notes of the study
   * that state other findings are invalidated in the same commit. Once the study's final read is
   * signed, its truth changes only by amending the read (INVALID_STATE here); the read service records
   * each read as a correction itself (`fromRead`), flushing the read with it. The read also becomes the
   * study's reference label in its site's validation set, in the same commit.
   */
  async submit(
    ctx: RequestContext,
    predictionId: string,
    label: string,
    comment?: string | null,
    options: { fromRead?: boolean } = {},
  ): Promise<Correction> {
    const principal = assertPermission(ctx.principal, Permission.CORRECT_PREDICTIONS);
    if (comment && comment.length > MAX_CORRECTION_COMMENT)
      throw new ValidationError(`comment is longer than ${MAX_CORRECTION_COMMENT} characters`, {
        field: 'comment',
        max: MAX_CORRECTION_COMMENT,
      });
    const prediction = isUuid(predictionId)
      ? await ctx.em.getRepository(Prediction).findWithStudyAndModel(predictionId)
      : null;
    if (!prediction) throw NotFoundError.of('Prediction', predictionId);
    const task = taskOfLabel(prediction, label);
    const patientId = prediction.study.patient.id;
    if (!options.fromRead) {
      if (SIGNED_STATUSES.includes(prediction.study.status))
        throw new InvalidStateError('The study has a signed final read: amend the read to change it', {
          studyId: prediction.study.id,
          status: prediction.study.status,
        });
      await invalidateContradictedNotes(
        ctx.em,
        ctx.audit,
        { id: prediction.study.id, patientId },
        label === NEGATIVE_CLASS[task] ? [] : [label],
        "A radiologist's correction states other findings than this note.",
      );
    }
    const previous = await ctx.em.getRepository(Correction).findOfPrediction(prediction.id);
    const images = await ctx.em.getRepository(Image).findOfStudy(prediction.study.id);
    const { written, excluded } = await this.copyForRetraining(images, prediction.id, patientId, task, label);

    const correction = ctx.em.create(Correction, {
      prediction,
      task,
      label,
      predictedLabel: prediction.label ?? null,
      predictedPositive: prediction.findings.length > 0,
      modelVersion: prediction.modelVersion ?? null,
      comment: comment?.trim() || null,
      createdBy: ctx.em.getReference(User, principal.userId),
      retrainingObjectKeys: written,
      retrainingExcludedReason: excluded,
    } as Correction);
    ctx.audit.write(ctx.em, {
      action: AuditAction.CREATE,
      entityType: 'Correction',
      entityId: correction.id,
      patientId,
    });
    // The radiologist's read joins the site's validation set as the study's reference label.
    await this.referenceLabels?.recordRead(ctx.em, {
      study: prediction.study,
      task,
      label,
      userId: principal.userId,
      source: options.fromRead ? ReferenceLabelSource.FINAL_READ : ReferenceLabelSource.CORRECTION,
    });
    try {
      await ctx.em.flush();
    } catch (error) {
      await this.area.delete(written).catch(() => undefined);
      throw error;
    }
    // The latest correction wins: copies of earlier ones under another label are removed.
    const stale = previous.flatMap((c) => c.retrainingObjectKeys).filter((k) => !written.includes(k));
    if (stale.length)
      await this.area
        .delete(stale)
        .catch((e: Error) => this.logger.warn({ err: e.message }, 'stale copies not removed'));
    await this.refreshManifest(task);
    this.listener(task);
    return correction;
  }

  /**
   * Copies a study's images de-identified into the retraining area under the true label. An image that
   * cannot be de-identified safely keeps the label without copies (the reason is returned); any other
   * failure removes what was written and throws.
   */
  private async copyForRetraining(
    images: Image[],
    predictionId: string,
    patientId: string,
    task: ModelTask,
    label: string,
  ): Promise<{ written: string[]; excluded: string | null }> {
    const written: string[] = [];
    let excluded: string | null = null;
    try {
      for (const image of images) {
        const source = await this.area.get(image.objectKey);
        const copy = await this.area.deidentify(source, patientId);
        const key = this.area.objectKey(task, label, image.id, copy.extension);
        await this.area.put(key, copy, label);
        written.push(key);
      }
    } catch (error) {
      if (!(error instanceof AppError) || error.httpStatus >= 500) {
        await this.area.delete(written).catch(() => undefined);
        throw error;
      }
      // The image cannot be de-identified safely (e.g. burned-in annotation): keep the label, no copy.
      await this.area.delete(written).catch(() => undefined);
      written.length = 0;
      excluded = error.code;
      this.logger.warn({ predictionId, code: error.code }, 'correction kept without a retraining copy');
    }
    return { written, excluded };
  }

  /**
   * Rewrites the task's manifest from the latest correction of every prediction that has copies.
   * Serialised in this process; the content is derived from the database, so a later rewrite from
   * any process repairs an interleaving.
   */
  refreshManifest(task: ModelTask): Promise<void> {
    const run = this.manifestChain.then(async () => {
      const rows = await this.latestRows(task);
      await this.area.writeManifest(task, rows);
    });
    this.manifestChain = run.catch((e: Error) =>
      this.logger.warn({ err: e.message, task }, 'retraining manifest not written'),
    );
    return this.manifestChain as Promise<void>;
  }

  /** Manifest rows: the latest correction per prediction, one row per copy. */
  async latestRows(task: ModelTask, until?: Date): Promise<RetrainingManifestRow[]> {
    const em = this.rootEm.fork();
    const rows = await em.getRepository(Correction).findLatestWithCopies(task, until);
    return rows.flatMap((r) =>
      r.keys.map((objectKey) => ({
        objectKey,
        trueLabel: r.label,
        predictedLabel: r.predicted_label,
        modelVersion: r.version,
        group: this.area.pseudonym(r.patient_id),
        correctionId: r.id,
      })),
    );
  }
}
