import { AppError } from './app-error';

/**
 * Labels for a site's validation set the API cannot use (an unknown label, a study that does not exist,
 * has no film or is already labelled otherwise, a duplicate, a patient with two labels). `details.row`
 * is the 0-based index of the offending item of the input; nothing of the import is stored.
 */
export class SiteLabelsInvalidError extends AppError {
  readonly code = 'SITE_LABELS_INVALID' as const;
}

/**
 * A site's validation set cannot support an evaluation: it is empty, or holds one class only
 * (`details.reason`: `EMPTY`, `ONE_CLASS`).
 */
export class SiteValidationSetError extends AppError {
  readonly code = 'SITE_VALIDATION_SET_INSUFFICIENT' as const;
  override readonly httpStatus = 409;
}

/**
 * A site operating point cannot be approved: the evaluation did not succeed, or no finding had enough
 * positives for its guarantee (`details.needs`: `FINDING:more positives needed`).
 */
export class SiteOperatingPointError extends AppError {
  readonly code = 'SITE_OPERATING_POINT_NOT_APPROVABLE' as const;
  override readonly httpStatus = 409;
}
