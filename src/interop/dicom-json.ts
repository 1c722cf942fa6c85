/**
 * DICOM JSON (PS3.18 F.2) helpers: reading QIDO-RS results and writing the STOW-RS response.
 */

/** One attribute of a DICOM JSON object. */
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
}

/** A DICOM JSON data set, keyed by eight hex digits. */
export type DicomJson = Record<string, DicomJsonAttribute>;

/** The first value of an attribute as text ('' when absent); person names give their Alphabetic form. */
export function jsonString(ds: DicomJson, tag: string): string {
  const v = ds[tag.toUpperCase()]?.Value?.[0] ?? ds[tag.toLowerCase()]?.Value?.[0];
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return String((v as { Alphabetic?: string }).Alphabetic ?? '');
  return String(v);
}

/** Every value of an attribute as text. */
export function jsonStrings(ds: DicomJson, tag: string): string[] {
  return (ds[tag.toUpperCase()]?.Value ?? []).map((v) => String(v));
}

/** The first value of an attribute as a number (null when absent). */
export function jsonNumber(ds: DicomJson, tag: string): number | null {
  const v = ds[tag.toUpperCase()]?.Value?.[0];
  const n = typeof v === 'number' ? v : Number(v);
  return v === undefined || !Number.isFinite(n) ? null : n;
}

/** STOW-RS failure reasons (PS3.18 Table 10.5.3-1 / PS3.4 C-STORE statuses). */
export const FailureReason = {
  PROCESSING_FAILURE: 0x0110,
  SOP_CLASS_NOT_SUPPORTED: 0x0122,
  OUT_OF_RESOURCES: 0xa700,
  DATA_SET_DOES_NOT_MATCH_SOP_CLASS: 0xa900,
  CANNOT_UNDERSTAND: 0xc000,
  TRANSFER_SYNTAX_NOT_SUPPORTED: 0xc122,
} as const;

/** One instance the STOW-RS request carried and what became of it. */
export interface StowOutcome {
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  /** Set when the instance was refused. */
  failure?: { reason: number; code: string };
}

/**
 * The STOW-RS response data set: Referenced SOP Sequence (stored, with their retrieve URL), Failed
 * SOP Sequence (with Failure Reason and our error code in Error Comment), and the Retrieve URL of the
 * study when one was named.
 */
export function stowResponse(outcomes: StowOutcome[], retrieveBase: string | null): DicomJson {
  const ref = (o: StowOutcome): DicomJson => ({
    ...(o.sopClassUid ? { '00081150': { vr: 'UI', Value: [o.sopClassUid] } } : {}),
    ...(o.sopInstanceUid ? { '00081155': { vr: 'UI', Value: [o.sopInstanceUid] } } : {}),
  });
  const stored = outcomes.filter((o) => !o.failure);
  const failed = outcomes.filter((o) => o.failure);
  const out: DicomJson = {};
  if (retrieveBase) out['00081190'] = { vr: 'UR', Value: [retrieveBase] };
  if (failed.length)
    out['00081198'] = {
      vr: 'SQ',
      Value: failed.map((o) => ({
        ...ref(o),
        '00081197': { vr: 'US', Value: [o.failure!.reason] },
        '00000902': { vr: 'LO', Value: [o.failure!.code] },
      })),
    };
  if (stored.length) out['00081199'] = { vr: 'SQ', Value: stored.map(ref) };
  return out;
}

/** HTTP status of a STOW-RS answer: 200 all stored, 202 some, 409 none (PS3.18 10.5.3). */
export function stowStatus(outcomes: StowOutcome[]): number {
  const failed = outcomes.filter((o) => o.failure).length;
  if (failed === 0) return 200;
  return failed === outcomes.length ? 409 : 202;
}
