/**
 * Verdict of the input gate that runs before any diagnosis: the reader's own vocabulary (the model's
 * out-of-distribution and body-part heads, the quality checks on the decoded film). The domain stores
 * and publishes these values as they are (`domain/enums.ts` re-exports this enum, so the GraphQL
 * `GateVerdict` and the database column keep these exact names); inference imports nothing from the
 * domain.
 */
export enum GateVerdict {
  ACCEPTED = 'ACCEPTED',
  NOT_A_RADIOGRAPH = 'NOT_A_RADIOGRAPH',
  WRONG_BODY_PART = 'WRONG_BODY_PART',
  LOW_QUALITY = 'LOW_QUALITY',
}
