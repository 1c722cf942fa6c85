/**
 * The notice every AI output carries (predictions, notes, exported reports, the CLI): a statement of the
 * prediction domain, which the GraphQL layer, the interop writers and the CLI show as it is.
 */
export const AI_ASSISTANCE_WARNING =
  'AI assistance only: this result may be wrong and requires review by a qualified clinician before any clinical decision.';
