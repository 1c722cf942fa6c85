import type { AiResult, RadiologistReview } from './ai-result';
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
  study: {
    id: string;
    studyInstanceUid: string | null;
    /** Accession number from the RIS, or null when the study has none of its own. */
    accessionNumber: string | null;
    bodyPart: string;
    /** The DICOM series and instances of the study's images (those that came as DICOM). */
    series: { uid: string; modality: string; instances: { uid: string; sopClassUid: string }[] }[];
  };
  /** The AI result (its explanation is not part of the FHIR report). */
  result: Omit<AiResult, 'explanation'>;
  /** System of our identifiers (MRN, accession), e.g. urn:care-companion:mrn. */
  identifierSystem: string;
  /**
   * The radiologist's read, when there is one: a signed read makes the report `final` (`amended` after
   * an amendment) with the radiologist's conclusion; a correction alone leaves it `preliminary`.
   */
  review: RadiologistReview | null;
}

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const DIAG_SERVICE = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const LOCAL = 'urn:care-companion:finding';
const GENDER: Record<string, string> = { MALE: 'male', FEMALE: 'female', OTHER: 'other', UNKNOWN: 'unknown' };
/** LOINC codes of the imaging reports by body part: the chest is read from one film, the wrist from PA + lateral. */
const REPORT_CODES: Record<string, { code: string; display: string }> = {
  CHEST: { code: '36554-4', display: 'XR Chest Single view' },
  WRIST: { code: '37971-9', display: 'XR Wrist Views' },
};
const DICOM_DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ID_TYPE = 'http://terminology.hl7.org/CodeSystem/v2-0203';

function coding(label: string) {
  const [value, scheme, meaning] = findingCode(label);
  return scheme === 'SCT'
    ? { system: SNOMED, code: value, display: meaning }
    : { system: LOCAL, code: value, display: meaning };
}

type Reference = { reference: string };

/** One Observation per class probability (valueQuantity 0..1, unit 1, interpretation POS when flagged). */
function aiObservations(input: FhirReportInput, issued: string, patientRef: Reference): FhirResource[] {
  const { result } = input;
  const flagged = new Set(result.findings.map((f) => f.label));
  return Object.entries(result.probabilities)
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
}

/** The radiologist's read beside the AI observations: one Observation per finding, present or absent. */
function radiologistObservations(
  input: FhirReportInput,
  reportStatus: string,
  issued: string,
  patientRef: Reference,
): FhirResource[] {
  const { review } = input;
  return (review?.findings ?? []).map((f, i) => ({
    resourceType: 'Observation',
    id: `${input.predictionId}-r${i + 1}`,
    status: reportStatus === 'preliminary' ? 'preliminary' : reportStatus,
    category: [{ coding: [{ system: OBS_CATEGORY, code: 'imaging', display: 'Imaging' }] }],
    code: { coding: [coding(f.label)], text: `Radiologist read: ${f.label}` },
    subject: patientRef,
    effectiveDateTime: issued,
    issued: review!.at.toISOString(),
    ...(review!.radiologist ? { performer: [{ display: review!.radiologist }] } : {}),
    valueBoolean: f.present,
    interpretation: [
      {
        coding: [
          f.present
            ? { system: INTERPRETATION, code: 'POS', display: 'Positive' }
            : { system: INTERPRETATION, code: 'NEG', display: 'Negative' },
        ],
      },
    ],
    method: { text: review!.kind === 'CORRECTION' ? 'Radiologist correction' : 'Radiologist read' },
  }));
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
  const { patient, study, result, review } = input;
  const issued = input.issued.toISOString();
  const reportStatus =
    review?.kind === 'FINAL' ? 'final' : review?.kind === 'AMENDED' ? 'amended' : 'preliminary';
  const patientRef = { reference: `Patient/${patient.id}` };
  const observations = aiObservations(input, issued, patientRef);
  const readObservations = radiologistObservations(input, reportStatus, issued, patientRef);
  const reportCode = REPORT_CODES[study.bodyPart] ?? { code: '18748-4', display: 'Diagnostic imaging study' };
  const verdict =
    result.gateVerdict !== 'ACCEPTED'
      ? `No AI reading: the input was refused (${result.gateVerdict}).`
      : result.findings.length
        ? `AI flags: ${result.findings.map((f) => `${f.label} (p=${f.probability.toFixed(2)})`).join(', ')}.`
        : `AI reading: ${result.label ?? 'no label'}; nothing flagged at the operating threshold.`;
  const imagingStudy = fhirImagingStudy(study, patient.id, input.identifierSystem);
  const patientResource = fhirPatient(patient, input.identifierSystem);
  const present = review?.findings.filter((f) => f.present).map((f) => f.label) ?? [];
  const radiologistSays = review
    ? `${review.kind === 'CORRECTION' ? 'Radiologist correction' : `Radiologist's read (${reportStatus})`}: ${
        present.length ? present.join(', ') : `no finding (${review.label})`
      }.${review.conclusion ? ` ${review.conclusion}` : ''}`
    : null;
  const report: FhirResource = {
    resourceType: 'DiagnosticReport',
    id: input.predictionId,
    status: reportStatus,
    category: [{ coding: [{ system: DIAG_SERVICE, code: 'RAD', display: 'Radiology' }] }],
    code: { coding: [{ system: LOINC, ...reportCode }], text: 'AI second reading' },
    subject: patientRef,
    effectiveDateTime: issued,
    issued,
    identifier: [{ system: `${input.identifierSystem}:prediction`, value: input.predictionId }],
    imagingStudy: [{ reference: `ImagingStudy/${study.id}` }],
    ...(review?.radiologist && review.kind !== 'CORRECTION'
      ? { resultsInterpreter: [{ display: review.radiologist }] }
      : {}),
    result: [...readObservations, ...observations].map((o) => ({ reference: `Observation/${o.id}` })),
    // The radiologist's conclusion in force, the AI observations beside it (never the other way round).
    conclusion: radiologistSays
      ? `${radiologistSays} AI second reading: ${verdict} ${result.warning}`
      : `${verdict} ${result.warning}`,
    ...(review
      ? { conclusionCode: (present.length ? present : [review.label]).map((l) => ({ coding: [coding(l)] })) }
      : result.findings.length
        ? { conclusionCode: result.findings.map((f) => ({ coding: [coding(f.label)] })) }
        : {}),
  };
  return { report, included: [...readObservations, ...observations, patientResource, imagingStudy] };
}

/** The FHIR Patient of a patient record (MRN as identifier). */
export function fhirPatient(patient: FhirReportInput['patient'], identifierSystem: string): FhirResource {
  return {
    resourceType: 'Patient',
    id: patient.id,
    identifier: [{ system: `${identifierSystem}:mrn`, value: patient.mrn }],
    name: [{ family: patient.familyName, given: [patient.givenName] }],
    gender: GENDER[patient.sex] ?? 'unknown',
    ...(patient.birthDate ? { birthDate: patient.birthDate } : {}),
  };
}

/**
 * The FHIR ImagingStudy of a study: Study Instance UID and accession number as identifiers, and the
 * DICOM series and instances of its images.
 */
export function fhirImagingStudy(
  study: FhirReportInput['study'],
  patientId: string,
  identifierSystem: string,
): FhirResource {
  const studyIdentifiers = [
    ...(study.studyInstanceUid
      ? [{ system: 'urn:dicom:uid', value: `urn:oid:${study.studyInstanceUid}` }]
      : []),
    ...(study.accessionNumber
      ? [
          {
            type: { coding: [{ system: ID_TYPE, code: 'ACSN', display: 'Accession ID' }] },
            system: `${identifierSystem}:accession`,
            value: study.accessionNumber,
          },
        ]
      : []),
  ];
  return {
    resourceType: 'ImagingStudy',
    id: study.id,
    status: 'available',
    subject: { reference: `Patient/${patientId}` },
    ...(studyIdentifiers.length ? { identifier: studyIdentifiers } : {}),
    ...(study.series.length
      ? {
          numberOfSeries: study.series.length,
          numberOfInstances: study.series.reduce((n, s) => n + s.instances.length, 0),
          series: study.series.map((s) => ({
            uid: s.uid,
            modality: { system: DICOM_DCM, code: s.modality },
            numberOfInstances: s.instances.length,
            instance: s.instances.map((i) => ({
              uid: i.uid,
              sopClass: { system: 'urn:ietf:rfc:3986', code: `urn:oid:${i.sopClassUid}` },
            })),
          })),
        }
      : {}),
  };
}

/** The server's CapabilityStatement (`GET /fhir/metadata`): what this FHIR endpoint serves. */
export function fhirCapabilityStatement(
  baseUrl: string,
  software: { name: string; version: string },
): Record<string, unknown> {
  const read = (type: string, search = false) => ({
    type,
    interaction: [{ code: 'read' }, ...(search ? [{ code: 'search-type' }] : [])],
    ...(search ? { searchParam: [{ name: '_id', type: 'token' }] } : {}),
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    kind: 'instance',
    software,
    implementation: {
      description: 'Care Companion AI second reading (AI assistance, requires clinician review)',
      url: baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: { description: 'Bearer token of a role that reads predictions and patient data.' },
        resource: [
          read('DiagnosticReport', true),
          read('Observation'),
          read('Patient'),
          read('ImagingStudy'),
        ],
      },
    ],
  };
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
