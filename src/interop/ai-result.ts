/** The AI result an exported report states (DICOM SR and FHIR alike). */
export interface AiResult {
  /** Gate verdict: ACCEPTED or why the input was refused. */
  gateVerdict: string;
  label: string | null;
  probabilities: Record<string, number>;
  findings: { label: string; probability: number; threshold: number }[];
  modelName: string;
  modelVersion: string;
  warning: string;
  explanation: string | null;
}

/**
 * The radiologist's read stated beside the AI result: a signed read (FINAL/AMENDED) or a correction.
 * A signed read makes the report final, with the radiologist as who verified it.
 */
export interface RadiologistReview {
  kind: 'FINAL' | 'AMENDED' | 'CORRECTION';
  findings: { label: string; present: boolean }[];
  label: string;
  conclusion: string | null;
  radiologist: string | null;
  at: Date;
}
