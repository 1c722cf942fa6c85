/**
 * Intake consistency (issue 15, item 4) on real films: a DICOM whose header names another patient,
 * order, examination, body part or view than its study is refused with that mismatch's code and
 * leaves no image; an explicit override naming every mismatch accepts it and is recorded and audited;
 * uploads never attached are swept after UPLOAD_RETENTION_SECONDS; decode errors speak the product's words.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Role } from '../../src/domain/enums';
import { createPatient } from '../support/clinical-fixtures';
import { sharedDataAvailable, sharedFile } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';

/** DX chest, PA (J2K lossless): its Patient ID, Accession Number and Study Instance UID. */
const DX = 'dicom/real_radiographs/DX_chest_MONO1_j2k_lossless_966_fixed.dcm';
const DX_MRN = '2010101610-1';
const DX_ACCESSION = 'd14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f';
const DX_STUDY_UID = '1.2.392.200046.100.2.1.97028794843.150131102105';
/** CR hip; Patient ID 10RG2, no accession, no view position. */
const HIP = 'dicom/real_radiographs/CR_hip_MONO2_jpegls_lossless_RG2_JLSL.dcm';

const ready = sharedDataAvailable();
let t: TestApp;
let tech: string;
let admin: string;
let seq = 0;

beforeAll(async () => {
  if (!ready) return;
  t = await startTestApp({ ANALYSIS_WORKERS: '0', RETRAIN_WORKERS: '0', UPLOAD_RETENTION_SECONDS: '3600' });
  tech = await t.tokenFor(Role.TECHNICIAN);
  admin = await t.tokenFor(Role.ADMIN);
});
afterAll(async () => t?.stop());

const codes = (errors?: { extensions?: { code?: string } }[]) =>
  (errors ?? []).map((e) => e.extensions?.code);

async function patientWithMrn(mrn: string): Promise<string> {
  const r = await t.gql<{ createPatient: { id: string } }>(
    tech,
    'mutation($m: String!) { createPatient(input: {mrn: $m, givenName: "G", familyName: "F"}) { id } }',
    { m: mrn },
  );
  // The MRN may already exist from another case of this file.
  if (r.errors) {
    const found = await t.gql<{ patients: { edges: { node: { id: string } }[] } }>(
      tech,
      'query($m: String!) { patients(first: 1, filter: {mrn: $m}) { edges { node { id } } } }',
      { m: mrn },
    );
    return found.data!.patients.edges[0]!.node.id;
  }
  return r.data!.createPatient.id;
}

async function study(
  patientId: string,
  fields: Record<string, string> = {},
  bodyPart = 'CHEST',
): Promise<string> {
  const r = await t.gql<{ createStudy: { id: string } }>(
    tech,
    'mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }',
    { i: { patientId, bodyPart, accessionNumber: `IC-${process.pid}-${++seq}`, ...fields } },
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.createStudy.id;
}

async function upload(file: string): Promise<string> {
  const res = await fetch(`${t.app.url}/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/dicom', authorization: `Bearer ${tech}` },
    body: sharedFile(file),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { uploadId: string }).uploadId;
}

const attachUpload = (studyId: string, uploadId: string, view: string, override?: unknown) =>
  t.gql<{
    attachImage: {
      id: string;
      intakeOverride: Record<string, unknown> | null;
      study: { studyInstanceUid: string | null };
    };
  }>(
    tech,
    'mutation($i: AttachImageInput!) { attachImage(input: $i) { id intakeOverride { accepted reason userId } study { studyInstanceUid } } }',
    { i: { studyId, uploadId, view, ...(override ? { override } : {}) } },
  );

const imageCount = async (studyId: string) =>
  Number(
    (
      (await t.app.orm.em
        .fork()
        .getConnection()
        .execute('select count(*)::int as n from image where study_id = ?', [studyId])) as { n: number }[]
    )[0]!.n,
  );

describe('DICOM header against the study at attach', () => {
  let dxUpload = '';
  /** A study that carries the DX film's accession number (unique: taken from any earlier study first). */
  async function dxStudy(patientId: string, fields: Record<string, string> = {}): Promise<string> {
    await t.app.orm.em
      .fork()
      .getConnection()
      .execute('update study set accession_number = id::text where accession_number = ?', [DX_ACCESSION]);
    return study(patientId, { accessionNumber: DX_ACCESSION, ...fields });
  }
  beforeAll(async () => {
    if (ready) dxUpload = await upload(DX);
  });

  it.each([
    ['another patient', async () => dxStudy(await createPatient(t, tech)), 'PA', 'PATIENT_MISMATCH'],
    ['another order', async () => study(await patientWithMrn(DX_MRN)), 'PA', 'ACCESSION_MISMATCH'],
    [
      'another examination',
      async () => dxStudy(await patientWithMrn(DX_MRN), { studyInstanceUid: '1.2.3.4' }),
      'PA',
      'STUDY_UID_MISMATCH',
    ],
    ['another view', async () => dxStudy(await patientWithMrn(DX_MRN)), 'LATERAL', 'VIEW_MISMATCH'],
  ])('refuses a film of %s with its code, leaving no image', async (_name, makeStudy, view, code) => {
    if (!ready) return;
    const studyId = await makeStudy();
    const r = await attachUpload(studyId, dxUpload, view);
    expect(codes(r.errors)).toEqual([code]);
    expect(r.errors![0]!.extensions!.details).toMatchObject({ mismatches: [code] });
    expect(r.errors![0]!.message).not.toContain(DX_MRN);
    expect(await imageCount(studyId)).toBe(0);
    // The upload is still there, to attach where it belongs.
    const row = await t.app.orm.em
      .fork()
      .getConnection()
      .execute('select attached_at from upload where id = ?', [dxUpload]);
    expect(row[0].attached_at).toBeNull();
  });

  it('accepts a film whose header agrees, and gives the study its Study Instance UID', async () => {
    if (!ready) return;
    const studyId = await dxStudy(await patientWithMrn(DX_MRN));
    const r = await attachUpload(studyId, dxUpload, 'PA');
    expect(r.errors).toBeUndefined();
    expect(r.data!.attachImage).toMatchObject({
      intakeOverride: null,
      study: { studyInstanceUid: DX_STUDY_UID },
    });
  });

  it('refuses a hip film in a chest study; an override naming every mismatch accepts it, recorded and audited', async () => {
    if (!ready) return;
    const studyId = await study(await patientWithMrn('10RG2'));
    const uploadId = await upload(HIP);
    const refused = await attachUpload(studyId, uploadId, 'AP');
    expect(codes(refused.errors)).toEqual(['BODY_PART_MISMATCH']);

    const other = await study(await createPatient(t, tech));
    const twoWrong = await attachUpload(other, uploadId, 'AP');
    expect(codes(twoWrong.errors)).toEqual(['PATIENT_MISMATCH']);
    expect(twoWrong.errors![0]!.extensions!.details).toMatchObject({
      mismatches: ['PATIENT_MISMATCH', 'BODY_PART_MISMATCH'],
    });
    // Accepting one of two is not enough.
    const partial = await attachUpload(other, uploadId, 'AP', {
      accept: ['BODY_PART_MISMATCH'],
      reason: 'hip on purpose',
    });
    expect(codes(partial.errors)).toEqual(['PATIENT_MISMATCH']);
    const noReason = await attachUpload(studyId, uploadId, 'AP', {
      accept: ['BODY_PART_MISMATCH'],
      reason: '',
    });
    expect(codes(noReason.errors)).toEqual(['BAD_USER_INPUT']);

    const accepted = await attachUpload(studyId, uploadId, 'AP', {
      accept: ['BODY_PART_MISMATCH'],
      reason: 'Ordered as chest, hip imaged by request of the ward',
    });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data!.attachImage.intakeOverride).toMatchObject({
      accepted: ['BODY_PART_MISMATCH'],
      reason: 'Ordered as chest, hip imaged by request of the ward',
    });
    const audit = await t.gql<{
      auditEvents: { edges: { node: { action: string; entityType: string; operation: string } }[] };
    }>(
      admin,
      'query { auditEvents(first: 50, filter: {entityType: "IntakeOverride"}) { edges { node { action entityType entityId operation } } } }',
    );
    expect(audit.data!.auditEvents.edges.map((e) => e.node)).toContainEqual(
      expect.objectContaining({
        action: 'CREATE',
        entityType: 'IntakeOverride',
        entityId: accepted.data!.attachImage.id,
        operation: 'mutation attachImage',
      }),
    );
  });
});

describe('uploads never attached', () => {
  it('are removed with their file once older than UPLOAD_RETENTION_SECONDS; attached ones stay', async () => {
    if (!ready) return;
    const forgottenRes = await fetch(`${t.app.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${tech}` },
      body: sharedFile('chest/kermany/test/NORMAL/IM-0006-0001.jpeg'),
    });
    const forgotten = ((await forgottenRes.json()) as { uploadId: string }).uploadId;
    const kept = await upload(HIP);
    const studyId = await study(await patientWithMrn('10RG2'));
    const conn = t.app.orm.em.fork().getConnection();
    const [{ object_key: forgottenKey }] = await conn.execute('select object_key from upload where id = ?', [
      forgotten,
    ]);
    // Two hours old: past the one-hour retention of this app.
    await conn.execute(`update upload set created_at = now() - interval '2 hours' where id in (?, ?)`, [
      forgotten,
      kept,
    ]);
    await conn.execute(`update upload set attached_at = now() where id = ?`, [kept]);

    expect(await t.app.images.sweepUnattached()).toBeGreaterThanOrEqual(1);
    expect(await conn.execute('select id from upload where id = ?', [forgotten])).toEqual([]);
    expect(await conn.execute('select id from upload where id = ?', [kept])).toHaveLength(1);
    expect(existsSync(join(t.storageDir, forgottenKey))).toBe(false);
    const late = await attachUpload(studyId, forgotten, 'AP');
    expect(codes(late.errors)).toEqual(['NOT_FOUND']);
  });
});

describe('decode errors in the product words', () => {
  it.each([
    [
      'a truncated JPEG 2000 DICOM',
      'dicom/known_bad/DX_chest_966_truncated_j2k_stream.dcm',
      'application/dicom',
      /SOT|[Ss]tream too short|openjpeg/,
    ],
    ['a truncated JPEG', null, 'image/jpeg', /Vips|[Pp]remature|libjpeg/],
  ])('names %s without the library message', async (_name, file, type, library) => {
    if (!ready) return;
    const bytes = file
      ? sharedFile(file)
      : sharedFile('chest/kermany/test/NORMAL/IM-0001-0001.jpeg').subarray(0, 4000);
    const res = await fetch(`${t.app.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': type, authorization: `Bearer ${tech}` },
      body: bytes,
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('CORRUPT_IMAGE');
    expect(body.error.message).toMatch(/ends early or is damaged/);
    expect(body.error.message).not.toMatch(library);
  });
});
