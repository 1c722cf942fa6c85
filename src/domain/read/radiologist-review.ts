import type { EntityManager } from '@mikro-orm/postgresql';
import { Correction } from '../correction/correction.entity';
import { NEGATIVE_CLASS, TASK_CLASSES } from '../correction/task-classes';
import { BodyPart, GateVerdict, ModelTask, ReviewAgreement, ReviewSource } from '../enums';
import type { Prediction } from '../prediction/prediction.entity';
import { ReadFindingRecord, StudyRead } from './study-read.entity';

/** The reading task of a study's body part. */
export function taskOf(bodyPart: BodyPart): ModelTask {
  return bodyPart === BodyPart.CHEST ? ModelTask.CHEST : ModelTask.WRIST;
}

/** The findings of a task: every class except its "no finding" class, in the trainer's order. */
export function findingLabels(task: ModelTask): string[] {
  return TASK_CLASSES[task].filter((c) => c !== NEGATIVE_CLASS[task]);
}

/** The task class a set of present findings amounts to: the first present (class order), else negative. */
export function classOfFindings(task: ModelTask, present: readonly string[]): string {
  return findingLabels(task).find((l) => present.includes(l)) ?? NEGATIVE_CLASS[task];
}

/** Every finding of a task, present when the corrected label names it. */
function findingsOfLabel(task: ModelTask, label: string): ReadFindingRecord[] {
  return findingLabels(task).map((l) => ({ label: l, present: l === label }));
}

/**
 * What the radiologist says about a study, whichever way it was recorded: the signed read in force
 * (final or amended) wins; without one, the latest correction of the prediction. This is the truth
 * notes are written from and results are reported with; an AI finding it overrides is never stated.
 */
export interface RadiologistTruth {
  source: ReviewSource;
  findings: ReadFindingRecord[];
  /** Labels of the findings stated present. */
  present: string[];
  label: string;
  read: StudyRead | null;
  correction: Correction | null;
  reviewedById: string | null;
  reviewedAt: Date;
}

/** The truth from a read or (failing that) a correction; null when the radiologist has said nothing yet. */
export function truthOf(
  task: ModelTask,
  read: StudyRead | null,
  correction: Correction | null,
): RadiologistTruth | null {
  if (read) {
    return {
      source: ReviewSource.FINAL_READ,
      findings: read.findings,
      present: read.findings.filter((f) => f.present).map((f) => f.label),
      label: read.label,
      read,
      correction: null,
      reviewedById: read.radiologist?.id ?? null,
      reviewedAt: read.createdAt,
    };
  }
  if (correction) {
    const findings = findingsOfLabel(task, correction.label);
    return {
      source: ReviewSource.CORRECTION,
      findings,
      present: findings.filter((f) => f.present).map((f) => f.label),
      label: correction.label,
      read: null,
      correction,
      reviewedById: correction.createdBy?.id ?? null,
      reviewedAt: correction.createdAt,
    };
  }
  return null;
}

/** One finding of a review compared with the AI reading. */
export interface ComparedFinding {
  label: string;
  present: boolean;
  /** Whether the AI flagged it at its operating point; null when the AI made no diagnosis. */
  aiFlagged: boolean | null;
  /** Whether the radiologist and the AI agree on it; null when the AI made no diagnosis. */
  agreesWithAi: boolean | null;
}

/** Compares a radiologist's findings with what a prediction flagged. */
export function compareWithAi(
  findings: readonly ReadFindingRecord[],
  prediction: { gateVerdict: GateVerdict; findings: readonly { label: string }[] } | null,
): { findings: ComparedFinding[]; agreement: ReviewAgreement } {
  const read = prediction && prediction.gateVerdict === GateVerdict.ACCEPTED;
  const flagged = new Set(prediction?.findings.map((f) => f.label) ?? []);
  const compared = findings.map((f) => ({
    label: f.label,
    present: f.present,
    aiFlagged: read ? flagged.has(f.label) : null,
    agreesWithAi: read ? flagged.has(f.label) === f.present : null,
  }));
  const agreement = !read
    ? ReviewAgreement.NO_AI_RESULT
    : compared.every((f) => f.agreesWithAi)
      ? ReviewAgreement.AGREED
      : ReviewAgreement.CORRECTED;
  return { findings: compared, agreement };
}

/** The radiologist's truth for one prediction (its study's read, else its latest correction). */
export async function truthForPrediction(
  em: EntityManager,
  prediction: Prediction,
): Promise<RadiologistTruth | null> {
  const [reads, corrections] = await Promise.all([
    em.getRepository(StudyRead).findInForceByStudies([prediction.study.id]),
    em.getRepository(Correction).findLatestByPredictions([prediction.id]),
  ]);
  return truthOf(
    taskOf(prediction.study.bodyPart),
    reads.get(prediction.study.id) ?? null,
    corrections.get(prediction.id) ?? null,
  );
}
