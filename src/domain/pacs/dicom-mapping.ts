import { BodyPart, ImageView, Sex } from '../enums';

/** DICOM Body Part Examined values per study body part (a strict subset of the analysis gate's). */
const BODY_PARTS: [BodyPart, RegExp][] = [
  [BodyPart.CHEST, /^(CHEST|THORAX|LUNG|LUNGS)$/i],
  // EXTREMITY is left out on purpose: it names legs too (the NEMA RG3 sample is a lower leg).
  [BodyPart.WRIST, /^(WRIST|HAND|FOREARM)$/i],
];

/** Our body part for a DICOM Body Part Examined value, or null when no model reads it. */
export function bodyPartOf(value: string | undefined): BodyPart | null {
  const v = (value ?? '').trim();
  return BODY_PARTS.find(([, re]) => re.test(v))?.[0] ?? null;
}

const VIEWS: Record<string, ImageView> = {
  PA: ImageView.PA,
  AP: ImageView.AP,
  LL: ImageView.LATERAL,
  RL: ImageView.LATERAL,
  LAT: ImageView.LATERAL,
  LATERAL: ImageView.LATERAL,
  OBL: ImageView.OBLIQUE,
  OBLIQUE: ImageView.OBLIQUE,
  LAO: ImageView.OBLIQUE,
  RAO: ImageView.OBLIQUE,
  LPO: ImageView.OBLIQUE,
  RPO: ImageView.OBLIQUE,
};

/** Our view for a DICOM View Position (0018,5101), or null when it is absent or unknown. */
export function viewOf(value: string | undefined): ImageView | null {
  return VIEWS[(value ?? '').trim().toUpperCase()] ?? null;
}

/** Administrative sex from DICOM Patient's Sex (M, F, O). */
export function sexOf(value: string | undefined): Sex {
  const v = (value ?? '').trim().toUpperCase();
  return v === 'M' ? Sex.MALE : v === 'F' ? Sex.FEMALE : v === 'O' ? Sex.OTHER : Sex.UNKNOWN;
}

/**
 * DICOM DA (YYYYMMDD) to YYYY-MM-DD when it names a real day in the years 0001–9999, else null
 * (hashed, partial, or year 0000, which PostgreSQL cannot store: regression, a STOW instance with
 * DA 00000101 failed its insert and the driver's message, with the patient's name, was logged).
 */
export function dateOf(value: string | undefined): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec((value ?? '').trim());
  if (!m || m[1] === '0000') return null;
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : null;
}

/** Family and given names from a DICOM PN (Family^Given^Middle^Prefix^Suffix, alphabetic group). */
export function namesOf(value: string | undefined): { familyName: string; givenName: string } {
  const [family = '', given = '', middle = ''] = (value ?? '').split('=')[0]!.split('^');
  return {
    familyName: family.trim() || 'UNKNOWN',
    givenName: [given.trim(), middle.trim()].filter(Boolean).join(' ') || 'UNKNOWN',
  };
}

/** DICOM PN and sex of a patient, for objects the product writes. */
export function dicomPatient(p: { familyName: string; givenName: string; sex: Sex }): {
  name: string;
  sex: 'M' | 'F' | 'O' | '';
} {
  return {
    name: `${p.familyName}^${p.givenName}`,
    sex: p.sex === Sex.MALE ? 'M' : p.sex === Sex.FEMALE ? 'F' : p.sex === Sex.OTHER ? 'O' : '',
  };
}
