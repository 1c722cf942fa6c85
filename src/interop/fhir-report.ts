import { findingCode } from './ai-report.sr';

/** A FHIR R4 resource (JSON). */
export type FhirResource = Record<string, unknown> & { resourceType: string; id: string };

/** What the FHIR report states; ids are the product's record ids. */
export interface FhirReportInput {
  predictionId: string;
  issued: Date;
  patient: {
    id: string;
    mrn: string;
    givenName: string;
    familyName: string;
    birthDate: string | null;
    sex: string;
  };
  study: { id: string; studyInstanceUid: string | null; accessionNumber: string; bodyPart: string };
  result: {
    gateVerdict: string;
    label: string | null;
    probabilities: Record<string, number>;
    findings: { label: string; probability: number; threshold: number }[];
    modelName: string;
    modelVersion: string;
    warning: string;
  };
  /** System of our identifiers (MRN, accession), e.g. urn:care-companion:mrn. */
  identifierSystem: string;
}

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const DIAG_SERVICE = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const LOCAL = 'urn:care-companion:finding';
const GENDER: Record<string, string> = { MALE: 'male', FEMALE: 'female', OTHER: 'other', UNKNOWN: 'unknown' };
/** LOINC codes of the imaging reports by body part. */
const REPORT_CODES: Record<string, { code: string; display: string }> = {
  CHEST: { code: '36643-5', display: 'XR Chest 2 Views' },
  WRIST: { code: '37971-9', display: 'XR Wrist Views' },
};

function coding(label: string) {
  const [value, scheme, meaning] = findingCode(label);
  return scheme === 'SCT'
    ? { system: SNOMED, code: value, display: meaning }
    : { system: LOCAL, code: value, display: meaning };
}

/**
 * FHIR R4 resources of one AI reading: a DiagnosticReport (status preliminary, conclusion with the
 * AI-assistance statement), one Observation per class probability (valueQuantity 0..1, unit 1,
 * interpretation POS when flagged), plus the Patient and ImagingStudy they reference. References
 * are relative (`Observation/<id>`), so they resolve within the Bundle built by {@link fhirBundle}.
 */
export function fhirReportResources(input: FhirReportInput): {
  report: FhirResource;
  included: FhirResource[];
} {
  const { patient, study, result } = input;
  const issued = input.issued.toISOString();
  const flagged = new Set(result.findings.map((f) => f.label));
  const patientRef = { reference: `Patient/${patient.id}` };
  const observations: FhirResource[] = Object.entries(result.probabilities)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, p], i) => ({
      resourceType: 'Observation',
      id: `${input.predictionId}-${i + 1}`,
      status: 'preliminary',
      category: [{ coding: [{ system: OBS_CATEGORY, code: 'imaging', display: 'Imaging' }] }],
      code: { coding: [coding(label)], text: `AI probability of ${label}` },
      subject: patientRef,
      effectiveDateTime: issued,
      issued,
      valueQuantity: {
        value: Math.round(p * 10000) / 10000,
        unit: 'probability',
        system: 'http://unitsofmeasure.org',
        code: '1',
      },
      ...(flagged.has(label)
        ? { interpretation: [{ coding: [{ system: INTERPRETATION, code: 'POS', display: 'Positive' }] }] }
        : {}),
      method: { text: `${result.modelName} ${result.modelVersion} (AI)` },
      note: [{ text: result.warning }],
    }));
  const reportCode = REPORT_CODES[study.bodyPart] ?? { code: '18748-4', display: 'Diagnostic imaging study' };
  const verdict =
    result.gateVerdict !== 'ACCEPTED'
      ? `No AI reading: the input was refused (${result.gateVerdict}).`
      : result.findings.length
        ? `AI flags: ${result.findings.map((f) => `${f.label} (p=${f.probability.toFixed(2)})`).join(', ')}.`
        : `AI reading: ${result.label ?? 'no label'}; nothing flagged at the operating threshold.`;
  const imagingStudy: FhirResource = {
    resourceType: 'ImagingStudy',
    id: study.id,
    status: 'available',
    subject: patientRef,
    ...(study.studyInstanceUid
      ? { identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${study.studyInstanceUid}` }] }
      : {}),
  };
  const patientResource: FhirResource = {
    resourceType: 'Patient',
    id: patient.id,
    identifier: [{ system: `${input.identifierSystem}:mrn`, value: patient.mrn }],
    name: [{ family: patient.familyName, given: [patient.givenName] }],
    gender: GENDER[patient.sex] ?? 'unknown',
    ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
  };
  const report: FhirResource = {
    resourceType: 'DiagnosticReport',
    id: input.predictionId,
    status: 'preliminary',
    category: [{ coding: [{ system: DIAG_SERVICE, code: 'RAD', display: 'Radiology' }] }],
    code: { coding: [{ system: LOINC, ...reportCode }], text: 'AI second reading' },
    subject: patientRef,
    effectiveDateTime: issued,
    issued,
    identifier: [{ system: `${input.identifierSystem}:prediction`, value: input.predictionId }],
    imagingStudy: [{ reference: `ImagingStudy/${study.id}` }],
    result: observations.map((o) => ({ reference: `Observation/${o.id}` })),
    conclusion: `${verdict} ${result.warning}`,
    ...(result.findings.length
      ? { conclusionCode: result.findings.map((f) => ({ coding: [coding(f.label)] })) }
      : {}),
  };
  return { report, included: [...observations, patientResource, imagingStudy] };
}

/** A searchset Bundle holding the report (match) and what it references (include). */
export function fhirBundle(baseUrl: string, report: FhirResource, included: FhirResource[]): FhirResource {
  const entry = (r: FhirResource, mode: 'match' | 'include') => ({
    fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`,
    resource: r,
    search: { mode },
  });
  return {
    resourceType: 'Bundle',
    id: `report-${report.id}`,
    type: 'searchset',
    total: 1,
    entry: [entry(report, 'match'), ...included.map((r) => entry(r, 'include'))],
  };
}
