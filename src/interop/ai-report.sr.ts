import type { AiResult, RadiologistReview } from './ai-result';
import { DicomDataset, el, writePart10 } from '../imaging/dicom/dicom-writer';

/** Comprehensive SR Storage. */
export const COMPREHENSIVE_SR_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.88.33';

/** A source image the report is about. */
export interface SrEvidence {
  seriesInstanceUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
}

/** Everything the AI result report states. Patient fields are copied from the source study (PHI). */
export interface AiReportInput {
  patient: { id: string; name: string; birthDate: string | null; sex: 'M' | 'F' | 'O' | '' };
  study: { studyInstanceUid: string; accessionNumber: string };
  evidence: SrEvidence[];
  uids: { series: string; instance: string };
  result: AiResult;
  created: Date;
  manufacturer: string;
  /**
   * The radiologist's read, when signed (FINAL/AMENDED) or a correction: stated beside the AI result.
   * A signed read makes the document VERIFIED and FINAL, with the radiologist as verifying observer.
   */
  review?: RadiologistReview | null;
}

type Code = [value: string, scheme: string, meaning: string];

/** Codes used in the report: LOINC/DICOM (DCM) for structure, SNOMED CT for findings where one fits. */
const SR_CODES = {
  report: ['18748-4', 'LN', 'Diagnostic imaging report'],
  findings: ['121070', 'DCM', 'Findings'],
  finding: ['121071', 'DCM', 'Finding'],
  impressions: ['121072', 'DCM', 'Impressions'],
  impression: ['121073', 'DCM', 'Impression'],
  comment: ['121106', 'DCM', 'Comment'],
  algorithmName: ['111001', 'DCM', 'Algorithm Name'],
  algorithmVersion: ['111003', 'DCM', 'Algorithm Version'],
  source: ['260753009', 'SCT', 'Source'],
} satisfies Record<string, Code>;

/** SNOMED CT concepts of the model classes (others get a local code in scheme 99CARECOMP). */
const FINDING_CODES: Record<string, Code> = {
  NORMAL: ['17621005', 'SCT', 'Normal'],
  PNEUMONIA: ['233604007', 'SCT', 'Pneumonia'],
  TUBERCULOSIS: ['56717001', 'SCT', 'Tuberculosis'],
  FRACTURE: ['125605004', 'SCT', 'Fracture of bone'],
  NO_FRACTURE: ['17621005', 'SCT', 'Normal'],
};

/** The code for a model class label. */
export function findingCode(label: string): Code {
  return (
    FINDING_CODES[label.toUpperCase()] ?? [label.toUpperCase().slice(0, 16), '99CARECOMP', label.slice(0, 64)]
  );
}

function code([value, scheme, meaning]: Code): DicomDataset {
  return [
    el(0x00080100, 'SH', value),
    el(0x00080102, 'SH', scheme),
    el(0x00080104, 'LO', meaning.slice(0, 64)),
  ];
}

function item(relationship: string, valueType: string, concept: Code, rest: DicomDataset = []): DicomDataset {
  return [
    el(0x0040a010, 'CS', relationship),
    el(0x0040a040, 'CS', valueType),
    el(0x0040a043, 'SQ', [code(concept)]),
    ...rest,
  ];
}

const text = (rel: string, concept: Code, value: string) =>
  item(rel, 'TEXT', concept, [el(0x0040a160, 'UT', value)]);

const num = (concept: Code, value: number) =>
  item('CONTAINS', 'NUM', concept, [
    el(0x0040a300, 'SQ', [
      [el(0x004008ea, 'SQ', [code(['1', 'UCUM', 'no units'])]), el(0x0040a30a, 'DS', value.toFixed(4))],
    ]),
  ]);

const dicomDate = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, '');
const dicomTime = (d: Date) => d.toISOString().slice(11, 19).replace(/:/g, '');
const dicomDateTime = (d: Date) => `${dicomDate(d)}${dicomTime(d)}`;

/** The findings container: the gate verdict, each class probability, the flagged findings, the source images. */
function findingItems(input: AiReportInput): DicomDataset[] {
  const r = input.result;
  return [
    text('CONTAINS', SR_CODES.finding, `Input gate: ${r.gateVerdict}`),
    ...Object.entries(r.probabilities)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, p]) => num(findingCode(label), p)),
    ...r.findings.map((f) =>
      text(
        'CONTAINS',
        SR_CODES.finding,
        `${f.label}: probability ${f.probability.toFixed(4)} at or above the operating threshold ${f.threshold.toFixed(4)}`,
      ),
    ),
    ...input.evidence.map((e) =>
      item('CONTAINS', 'IMAGE', SR_CODES.source, [
        el(0x00081199, 'SQ', [[el(0x00081150, 'UI', e.sopClassUid), el(0x00081155, 'UI', e.sopInstanceUid)]]),
      ]),
    ),
  ];
}

/** The impressions: the radiologist's (when reviewed) first, then the AI's, then its explanation. */
function impressionItems(input: AiReportInput): DicomDataset[] {
  const r = input.result;
  const impression =
    r.gateVerdict !== 'ACCEPTED'
      ? `No reading: the input was refused (${r.gateVerdict}).`
      : r.findings.length
        ? `AI flags: ${r.findings.map((f) => f.label).join(', ')}.`
        : `AI reading: ${r.label ?? 'no label'}; no finding at the operating threshold.`;
  const review = input.review ?? null;
  const present = review?.findings.filter((f) => f.present).map((f) => f.label) ?? [];
  const radiologistImpression = review
    ? `${review.kind === 'CORRECTION' ? 'Radiologist correction' : `Radiologist's read (${review.kind.toLowerCase()})`}: ${
        present.length ? present.join(', ') : `no finding (${review.label})`
      }.${review.conclusion ? ` ${review.conclusion}` : ''}`
    : null;
  return [
    ...(radiologistImpression ? [text('CONTAINS', SR_CODES.impression, radiologistImpression)] : []),
    text('CONTAINS', SR_CODES.impression, review ? `AI second reading: ${impression}` : impression),
    ...(r.explanation ? [text('CONTAINS', SR_CODES.comment, r.explanation)] : []),
  ];
}

/** The Current Requested Procedure Evidence Sequence: the source images by series. */
function evidenceItems(input: AiReportInput): DicomDataset[] {
  if (!input.evidence.length) return [];
  const bySeries = new Map<string, SrEvidence[]>();
  for (const e of input.evidence)
    bySeries.set(e.seriesInstanceUid, [...(bySeries.get(e.seriesInstanceUid) ?? []), e]);
  return [
    [
      el(0x00081115, 'SQ', [
        ...[...bySeries.entries()].map(([series, refs]) => [
          el(
            0x00081199,
            'SQ',
            refs.map((e) => [el(0x00081150, 'UI', e.sopClassUid), el(0x00081155, 'UI', e.sopInstanceUid)]),
          ),
          el(0x0020000e, 'UI', series),
        ]),
      ]),
      el(0x0020000d, 'UI', input.study.studyInstanceUid),
    ],
  ];
}

/** The Verifying Observer Sequence of a signed read. */
function verifyingObserver(input: AiReportInput, review: RadiologistReview) {
  return el(0x0040a073, 'SQ', [
    [
      el(0x0040a027, 'LO', input.manufacturer),
      el(0x0040a030, 'DT', dicomDateTime(review.at)),
      el(0x0040a075, 'PN', (review.radiologist ?? 'Radiologist').replace(/\^/g, ' ').slice(0, 64)),
      el(0x0040a088, 'SQ', []),
    ],
  ]);
}

/**
 * Builds a DICOM Comprehensive SR (Part 10, Explicit VR Little Endian) stating an AI result: the
 * verdict, each class probability (NUM, unit 1), the flagged findings, algorithm name and version,
 * the AI-assistance statement, and the source images (IMAGE items and the Current Requested
 * Procedure Evidence Sequence). It joins the source study (same Study Instance UID) as a new series.
 * Marked UNVERIFIED and PRELIMINARY until a radiologist's read is signed; then the radiologist's
 * impression leads, the AI result stays beside it, and the document is VERIFIED and FINAL with the
 * radiologist as verifying observer.
 */
export function buildAiReportSr(input: AiReportInput): Buffer {
  const r = input.result;
  const review = input.review ?? null;
  const signed = review !== null && review.kind !== 'CORRECTION';
  const content: DicomDataset[] = [
    item('CONTAINS', 'CONTAINER', SR_CODES.findings, [
      el(0x0040a050, 'CS', 'SEPARATE'),
      el(0x0040a730, 'SQ', findingItems(input)),
    ]),
    item('CONTAINS', 'CONTAINER', SR_CODES.impressions, [
      el(0x0040a050, 'CS', 'SEPARATE'),
      el(0x0040a730, 'SQ', impressionItems(input)),
    ]),
    text('CONTAINS', SR_CODES.algorithmName, r.modelName),
    text('CONTAINS', SR_CODES.algorithmVersion, r.modelVersion),
    text('CONTAINS', SR_CODES.comment, r.warning),
  ];
  const now = input.created;
  const ds: DicomDataset = [
    el(0x00080012, 'DA', dicomDate(now)),
    el(0x00080013, 'TM', dicomTime(now)),
    el(0x00080016, 'UI', COMPREHENSIVE_SR_SOP_CLASS),
    el(0x00080018, 'UI', input.uids.instance),
    el(0x00080020, 'DA', ''),
    el(0x00080023, 'DA', dicomDate(now)),
    el(0x00080030, 'TM', ''),
    el(0x00080033, 'TM', dicomTime(now)),
    el(0x00080050, 'SH', input.study.accessionNumber.slice(0, 16)),
    el(0x00080060, 'CS', 'SR'),
    el(0x00080070, 'LO', input.manufacturer),
    el(0x00080090, 'PN', ''),
    el(0x0008103e, 'LO', 'AI second reading (requires clinician review)'),
    el(0x00081111, 'SQ', []),
    el(0x00100010, 'PN', input.patient.name),
    el(0x00100020, 'LO', input.patient.id),
    el(0x00100030, 'DA', input.patient.birthDate ?? ''),
    el(0x00100040, 'CS', input.patient.sex),
    el(0x0020000d, 'UI', input.study.studyInstanceUid),
    el(0x0020000e, 'UI', input.uids.series),
    el(0x00200010, 'SH', ''),
    el(0x00200011, 'IS', '9901'),
    el(0x00200013, 'IS', '1'),
    el(0x0040a040, 'CS', 'CONTAINER'),
    el(0x0040a043, 'SQ', [code(SR_CODES.report)]),
    el(0x0040a050, 'CS', 'SEPARATE'),
    el(0x0040a372, 'SQ', []),
    el(0x0040a375, 'SQ', evidenceItems(input)),
    el(0x0040a491, 'CS', 'COMPLETE'),
    el(0x0040a493, 'CS', signed ? 'VERIFIED' : 'UNVERIFIED'),
    el(0x0040a496, 'CS', signed ? 'FINAL' : 'PRELIMINARY'),
    ...(signed ? [verifyingObserver(input, review!)] : []),
    el(0x0040a730, 'SQ', content),
  ];
  // The default repertoire (ASCII) unless a value needs more; then UTF-8 (ISO_IR 192).
  if (!isAscii(ds)) ds.push(el(0x00080005, 'CS', 'ISO_IR 192'));
  return writePart10(ds);
}

function isAscii(ds: DicomDataset): boolean {
  return ds.every((e) =>
    e.vr === 'SQ'
      ? (e.value as DicomDataset[]).every(isAscii)
      : typeof e.value === 'string' || (Array.isArray(e.value) && typeof e.value[0] === 'string')
        ? /^[\x20-\x7e\r\n\t]*$/.test(([] as string[]).concat(e.value as string).join(''))
        : true,
  );
}
