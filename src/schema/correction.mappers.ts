import type { Correction } from '../domain/correction/correction.entity';
import { CorrectionType } from './correction.types';

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
