import { ReviewAgreement } from '../domain/enums';
import type { ComparedFinding } from '../domain/read/radiologist-review';
import type { PredictionReview } from '../domain/read/read.service';
import type { StudyRead } from '../domain/read/study-read.entity';
import { FinalReadType, PredictionReviewType, ReadFindingType } from './read.types';

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
