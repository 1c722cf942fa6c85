/**
 * PACS interoperability against a real Orthanc (Debian orthanc + orthanc-dicomweb) on loopback:
 * QIDO-RS search, WADO-RS import, STOW-RS push from Orthanc to us, bad STOW input, analysis of an
 * imported chest film, the AI report stored back as a DICOM SR (checked with dcmtk's dsrdump and
 * found again with QIDO-RS), and the FHIR R4 DiagnosticReport.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Role } from '../../src/domain/enums';
import { jsonString, DicomJson } from '../../src/interop/dicom-json';
import { HttpDicomWebClient } from '../../src/interop/dicomweb.client';
import { buildMultipartRelated } from '../../src/interop/multipart';
import { AI_ASSISTANCE_WARNING } from '../../src/domain/prediction/ai-assistance';
import { orthancInstalled, OrthancProcess, startOrthanc } from '../support/orthanc';
import { sharedDataAvailable, sharedFile, SHARED_DIR } from '../support/shared-data';
import { requireOrSkip } from '../support/test-database';
import { startTestApp, TestApp } from '../support/test-app';
import { shippedVersion } from '../support/model-repository';

const REAL = 'dicom/real_radiographs';
const RG1_CHEST_STUDY = '1.3.6.1.4.1.5962.1.2.9.20040826185059.5457';
const DX_CHEST_STUDY = '1.2.392.200046.100.2.1.97028794843.150131102105';
const HIP_STUDY = '1.3.6.1.4.1.5962.1.2.10.20040826185059.5457';
const HAND_STUDY = '1.2.840.113564.3.1.2.10.111.22.333.4567890123456789012';
const NO_PATIENT_ID_STUDY = '1.2.392.200036.9125.0.199302241758.16';
const NO_BODY_PART_STUDY = '1.2.3.4.5.6';
const EXTREMITY_STUDY = '1.3.6.1.4.1.5962.1.2.11.20040826185059.5457';
const TRUNCATED_J2K = 'dicom/known_bad/DX_chest_966_truncated_j2k_stream.dcm';
const SR_FILE = 'dicom/pydicom_debian_test_files/test-SR.dcm';
const RG1_JLSN = `${REAL}/CR_chest_MONO1_jpegls_nearlossless_RG1_JLSN.dcm`;
const STOW_MAX_BYTES = 20 * 1024 * 1024;
const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const hasTools = orthancInstalled() && spawnSync('dsrdump', ['--version']).status === 0;

describe('PACS interoperability over DICOMweb with Orthanc', () => {
  const available =
    requireOrSkip(hasTools, 'orthanc, orthanc-dicomweb and dcmtk Debian packages (scripts/setup.sh)') &&
    sharedDataAvailable();
  let orthanc: OrthancProcess;
  let t: TestApp;
  let pacs: HttpDicomWebClient;
  const tokens: Partial<Record<Role, string>> = {};
  let chestStudyId = '';
  let predictionId = '';

  beforeAll(async () => {
    if (!available) return;
    orthanc = await startOrthanc();
    t = await startTestApp({
      PACS_DICOMWEB_URL: orthanc.dicomWebUrl,
      PACS_USERNAME: orthanc.username,
      PACS_PASSWORD: orthanc.password,
      STOW_MAX_BYTES: String(STOW_MAX_BYTES),
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      ANALYSIS_WORKERS: '0',
      DECODE_WORKERS: '0',
    });
    for (const role of Object.values(Role)) tokens[role] = await t.tokenFor(role);
    pacs = new HttpDicomWebClient({
      baseUrl: orthanc.dicomWebUrl,
      username: orthanc.username,
      password: orthanc.password,
      timeoutMs: 30_000,
      maxResponseBytes: 100 * 1024 * 1024,
    });
    // The PACS holds every real radiograph of the shared set (Orthanc's own REST upload).
    for (const name of readdirSync(join(SHARED_DIR, 'datasets', REAL))) {
      const res = await orthanc.request('/instances', {
        method: 'POST',
        headers: { 'content-type': 'application/dicom' },
        body: sharedFile(`${REAL}/${name}`),
      });
      expect(res.status).toBe(200);
    }
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await orthanc?.stop();
  });

  async function counts() {
    const conn = t.app.orm.em.fork().getConnection();
    const [row] = await conn.execute(
      `select (select count(*) from patient)::int as patients, (select count(*) from study)::int as studies,
              (select count(*) from image)::int as images, (select count(*) from upload)::int as uploads`,
    );
    const objects = filesUnder(t.storageDir).filter((f) => !f.endsWith('~meta.json')).length;
    const r = row as { patients: number; studies: number; images: number; uploads: number };
    return { ...r, objects };
  }

  const importQuery = `mutation($uid: String!) { importStudyFromPacs(studyInstanceUid: $uid) {
    studyInstanceUid stored alreadyStored failed studyIds instances { sopInstanceUid status code failureReason studyId } } }`;
  type ImportResult = {
    importStudyFromPacs: {
      stored: number;
      alreadyStored: number;
      failed: number;
      studyIds: string[];
      instances: {
        sopInstanceUid: string | null;
        status: string;
        code: string | null;
        failureReason: number | null;
      }[];
    };
  };

  async function stow(
    body: Buffer,
    contentType: string,
    token = tokens.TECHNICIAN!,
    path = '/dicom-web/studies',
  ) {
    const res = await fetch(`${t.app.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        authorization: `Bearer ${token}`,
        accept: 'application/dicom+json',
      },
      body,
    });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      body: (await res.json()) as DicomJson & { error?: { code: string } },
    };
  }

  const failures = (body: DicomJson) =>
    ((body['00081198']?.Value ?? []) as DicomJson[]).map((i) => ({
      uid: jsonString(i, '00081155') || null,
      reason: Number(jsonString(i, '00081197')),
      code: jsonString(i, '00000902'),
    }));
  const stored = (body: DicomJson) =>
    ((body['00081199']?.Value ?? []) as DicomJson[]).map((i) => jsonString(i, '00081155'));

  it('finds the studies on the PACS with QIDO-RS', async () => {
    if (!available) return;
    const res = await t.gql<{
      pacsStudies: {
        studyInstanceUid: string;
        patientId: string;
        modalities: string[];
        numberOfInstances: number;
        studyIds: string[];
      }[];
    }>(
      tokens.TECHNICIAN!,
      'query { pacsStudies(filter: {modality: "CR"}) { studyInstanceUid patientId modalities numberOfInstances studyIds } }',
    );
    expect(res.errors).toBeUndefined();
    const rg1 = res.data!.pacsStudies.find((s) => s.studyInstanceUid === RG1_CHEST_STUDY);
    expect(rg1).toMatchObject({ patientId: '9RG1', modalities: ['CR'], numberOfInstances: 2, studyIds: [] });
    expect(res.data!.pacsStudies.map((s) => s.studyInstanceUid)).not.toContain(DX_CHEST_STUDY); // DX, filtered out
    const byPatient = await t.gql<{ pacsStudies: { studyInstanceUid: string }[] }>(
      tokens.TECHNICIAN!,
      'query { pacsStudies(filter: {patientId: "10RG2"}) { studyInstanceUid } }',
    );
    expect(byPatient.data!.pacsStudies.map((s) => s.studyInstanceUid)).toEqual([HIP_STUDY]);
    // Series and instance levels through the same client.
    const series = await pacs.searchSeries(HIP_STUDY);
    expect(series.map((d) => [jsonString(d, '00080060'), jsonString(d, '00201209')])).toEqual([['CR', '3']]);
    expect(await pacs.searchInstances(HIP_STUDY)).toHaveLength(3);
  });

  it('imports a chest study with WADO-RS into a patient, a study and its images; importing again adds nothing', async () => {
    if (!available) return;
    const before = await counts();
    const first = await t.gql<ImportResult>(tokens.TECHNICIAN!, importQuery, { uid: RG1_CHEST_STUDY });
    expect(first.errors).toBeUndefined();
    expect(first.data!.importStudyFromPacs).toMatchObject({ stored: 2, alreadyStored: 0, failed: 0 });
    expect(first.data!.importStudyFromPacs.studyIds).toHaveLength(1);
    chestStudyId = first.data!.importStudyFromPacs.studyIds[0]!;
    expect(await counts()).toEqual({
      ...before,
      patients: before.patients + 1,
      studies: before.studies + 1,
      images: before.images + 2,
      uploads: before.uploads + 2,
      objects: before.objects + 2,
    });

    const study = await t.gql<{
      study: {
        bodyPart: string;
        accessionNumber: string;
        studyInstanceUid: string;
        patient: { mrn: string; givenName: string; familyName: string; birthDate: string; sex: string };
        images: { view: string; format: string; width: number }[];
      };
    }>(
      tokens.TECHNICIAN!,
      'query($id: ID!) { study(id: $id) { bodyPart accessionNumber studyInstanceUid patient { mrn givenName familyName birthDate sex } images { view format width } } }',
      { id: chestStudyId },
    );
    expect(study.errors).toBeUndefined();
    expect(study.data!.study).toMatchObject({
      bodyPart: 'CHEST',
      accessionNumber: 'exam Number',
      studyInstanceUid: RG1_CHEST_STUDY,
      patient: {
        mrn: '9RG1',
        familyName: 'CompressedSamples',
        givenName: 'RG1',
        birthDate: '1940-03-05',
        sex: 'FEMALE',
      },
    });
    expect(study.data!.study.images.map((i) => [i.view, i.format, i.width])).toEqual([
      ['PA', 'DICOM', 1841],
      ['PA', 'DICOM', 1841],
    ]);

    const again = await t.gql<ImportResult>(tokens.ADMIN!, importQuery, { uid: RG1_CHEST_STUDY });
    expect(again.data!.importStudyFromPacs).toMatchObject({
      stored: 0,
      alreadyStored: 2,
      failed: 0,
      studyIds: [chestStudyId],
    });
    const after = await counts();
    expect(after).toEqual({
      ...before,
      patients: before.patients + 1,
      studies: before.studies + 1,
      images: before.images + 2,
      uploads: before.uploads + 2,
      objects: before.objects + 2,
    });

    const listed = await t.gql<{ pacsStudies: { studyIds: string[] }[] }>(
      tokens.TECHNICIAN!,
      'query($uid: String!) { pacsStudies(filter: {studyInstanceUid: $uid}) { studyIds } }',
      { uid: RG1_CHEST_STUDY },
    );
    expect(listed.data!.pacsStudies).toEqual([{ studyIds: [chestStudyId] }]);
  });

  it('stores one image when the same new instance is pushed twice at once, and a later import finds it there', async () => {
    if (!available) return;
    const dx = sharedFile(`${REAL}/DX_chest_MONO1_j2k_lossless_966_fixed.dcm`);
    const before = await counts();
    const pushes = [0, 1].map(() => buildMultipartRelated([dx], 'application/dicom'));
    const results = await Promise.all(pushes.map((b) => stow(b.body, b.contentType)));
    expect(results.map((r) => [r.status, stored(r.body)])).toEqual([
      [200, ['1.2.392.200046.100.2.1.97028794843.150131102105.1.1.1']],
      [200, ['1.2.392.200046.100.2.1.97028794843.150131102105.1.1.1']],
    ]);
    expect(await counts()).toEqual({
      ...before,
      patients: before.patients + 1,
      studies: before.studies + 1,
      images: before.images + 1,
      uploads: before.uploads + 1,
      objects: before.objects + 1,
    });
    const res = await t.gql<ImportResult>(tokens.TECHNICIAN!, importQuery, { uid: DX_CHEST_STUDY });
    expect(res.data!.importStudyFromPacs).toMatchObject({ stored: 0, alreadyStored: 1, failed: 0 });
    const patients = await t.gql<{
      patients: { edges: { node: { mrn: string; sex: string; birthDate: string | null } }[] };
    }>(
      tokens.TECHNICIAN!,
      'query { patients(filter: {mrn: "2010101610-1"}) { edges { node { mrn sex birthDate } } } }',
    );
    // The birth date in this file is a hash, not a date: it is left empty rather than guessed.
    expect(patients.data!.patients.edges.map((e) => e.node)).toEqual([
      { mrn: '2010101610-1', sex: 'UNKNOWN', birthDate: null },
    ]);
  });

  it.each([
    [HIP_STUDY, 3, 'BODY_PART_NOT_SUPPORTED', 0x0122],
    [EXTREMITY_STUDY, 1, 'BODY_PART_NOT_SUPPORTED', 0x0122],
    [NO_PATIENT_ID_STUDY, 1, 'PATIENT_ID_MISSING', 0xa900],
    [NO_BODY_PART_STUDY, 1, 'BODY_PART_MISSING', 0xa900],
  ])(
    'refuses every instance of study %s it cannot place (%i instances, %s) and writes nothing',
    async (uid, n, code, reason) => {
      if (!available) return;
      const before = await counts();
      const res = await t.gql<ImportResult>(tokens.TECHNICIAN!, importQuery, { uid });
      expect(res.errors).toBeUndefined();
      expect(res.data!.importStudyFromPacs).toMatchObject({
        stored: 0,
        alreadyStored: 0,
        failed: n,
        studyIds: [],
      });
      for (const i of res.data!.importStudyFromPacs.instances)
        expect([i.code, i.failureReason]).toEqual([code, reason]);
      expect(await counts()).toEqual(before);
    },
  );

  it('answers NOT_FOUND for a study the PACS does not hold, and BAD_USER_INPUT for a malformed UID', async () => {
    if (!available) return;
    const missing = await t.gql(tokens.TECHNICIAN!, importQuery, { uid: '1.2.3.999' });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const bad = await t.gql(tokens.TECHNICIAN!, importQuery, { uid: '1.2.abc' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('accepts a study pushed by Orthanc with STOW-RS (Orthanc as the client) and files it as a wrist study', async () => {
    if (!available) return;
    const put = await orthanc.request('/dicom-web/servers/care', {
      method: 'PUT',
      body: JSON.stringify({
        Url: `${t.app.url}/dicom-web/`,
        HttpHeaders: { Authorization: `Bearer ${tokens.TECHNICIAN!}` },
      }),
    });
    expect(put.status).toBe(200);
    const found = (await (
      await orthanc.request('/tools/find', {
        method: 'POST',
        body: JSON.stringify({ Level: 'Study', Query: { StudyInstanceUID: HAND_STUDY } }),
      })
    ).json()) as string[];
    expect(found).toHaveLength(1);
    const before = await counts();
    const push = await orthanc.request('/dicom-web/servers/care/stow', {
      method: 'POST',
      body: JSON.stringify({ Resources: found, Synchronous: true }),
    });
    expect({
      status: push.status,
      body: push.status === 200 ? '' : `${await push.text()}\n${orthanc.logs.join('').slice(-3000)}`,
    }).toEqual({ status: 200, body: '' });
    const after = await counts();
    expect(after).toMatchObject({
      patients: before.patients + 1,
      studies: before.studies + 1,
      images: before.images + 1,
    });
    const studies = await t.gql<{
      studies: {
        edges: { node: { bodyPart: string; studyInstanceUid: string; images: { view: string }[] } }[];
      };
    }>(
      tokens.TECHNICIAN!,
      'query { studies(filter: {bodyPart: WRIST}) { edges { node { bodyPart studyInstanceUid images { view } } } } }',
    );
    expect(studies.data!.studies.edges.map((e) => e.node)).toEqual([
      { bodyPart: 'WRIST', studyInstanceUid: HAND_STUDY, images: [{ view: 'PA' }] },
    ]);
  });

  describe('STOW-RS bad input', () => {
    it.each([
      [
        'no closing boundary (truncated body)',
        (b: Buffer) => b.subarray(0, b.length - 40),
        400,
        'MALFORMED_MULTIPART',
        null,
      ],
      [
        'a boundary that never occurs',
        (b: Buffer) => b,
        400,
        'MALFORMED_MULTIPART',
        'multipart/related; type="application/dicom"; boundary=nope',
      ],
      [
        'no boundary parameter',
        (b: Buffer) => b,
        400,
        'MALFORMED_MULTIPART',
        'multipart/related; type="application/dicom"',
      ],
      ['a JSON body', (b: Buffer) => b, 415, 'UNSUPPORTED_MEDIA_TYPE', 'application/json'],
      [
        'metadata parts (application/dicom+json)',
        (b: Buffer) => b,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'multipart/related; type="application/dicom+json"; boundary=x',
      ],
    ])(
      'refuses %s with a clear code and writes nothing',
      async (_name, mangle, status, code, type: string | null) => {
        if (!available) return;
        const before = await counts();
        const { body, contentType } = buildMultipartRelated([sharedFile(RG1_JLSN)], 'application/dicom');
        const res = await stow(mangle(body), type ?? contentType);
        expect([res.status, res.body.error?.code]).toEqual([status, code]);
        expect(await counts()).toEqual(before);
      },
    );

    it('refuses a body over STOW_MAX_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
      if (!available) return;
      const before = await counts();
      const { body, contentType } = buildMultipartRelated(
        [Buffer.alloc(STOW_MAX_BYTES + 1)],
        'application/dicom',
      );
      const res = await stow(body, contentType);
      expect([res.status, res.body.error?.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
      expect(await counts()).toEqual(before);
    });

    it('answers 409 with a Failed SOP Sequence naming each bad instance and its reason; nothing is written', async () => {
      if (!available) return;
      const before = await counts();
      const dx = sharedFile(`${REAL}/DX_chest_MONO1_j2k_lossless_966_fixed.dcm`);
      const { body, contentType } = buildMultipartRelated(
        [
          sharedFile(TRUNCATED_J2K), // pixel data stream cut short
          dx.subarray(0, 600), // cut inside the header
          sharedFile(SR_FILE), // a structured report, not an image
          Buffer.concat([dx, Buffer.alloc(MAX_UPLOAD_BYTES)]), // over MAX_UPLOAD_BYTES
          Buffer.from('not dicom at all'),
        ],
        'application/dicom',
      );
      const res = await stow(body, contentType);
      expect(res.status).toBe(409);
      expect(res.type).toBe('application/dicom+json');
      expect(stored(res.body)).toEqual([]);
      expect(failures(res.body)).toEqual([
        {
          uid: '1.2.392.200046.100.2.1.97028794843.150131102105.1.1.1',
          reason: 0xc000,
          code: 'CORRUPT_IMAGE',
        },
        { uid: null, reason: 0xc000, code: 'CORRUPT_IMAGE' },
        { uid: expect.stringMatching(/^[0-9.]+$/), reason: 0x0122, code: 'NOT_AN_IMAGE' },
        {
          uid: '1.2.392.200046.100.2.1.97028794843.150131102105.1.1.1',
          reason: 0xa700,
          code: 'UPLOAD_TOO_LARGE',
        },
        { uid: null, reason: 0xc000, code: 'UNSUPPORTED_MEDIA_TYPE' },
      ]);
      expect(await counts()).toEqual(before);
    });

    it('answers 202 when some instances are stored and others refused; a part that is not application/dicom is refused', async () => {
      if (!available) return;
      const good = sharedFile(RG1_JLSN); // already imported: stored again idempotently
      const boundary = 'b0undary';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
        good,
        Buffer.from(`\r\n--${boundary}\r\nContent-Type: image/png\r\n\r\n`),
        sharedFile('wrist_grazpedwri_metadata/sample_images/0001_1297860395_01_WRI-L1_M014.png'),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const before = await counts();
      const res = await stow(body, `multipart/related; type="application/dicom"; boundary="${boundary}"`);
      expect(res.status).toBe(202);
      expect(stored(res.body)).toEqual(['1.3.6.1.4.1.5962.1.1.9.1.7.20040826185059.5457']);
      expect(failures(res.body)).toEqual([{ uid: null, reason: 0xc000, code: 'UNSUPPORTED_MEDIA_TYPE' }]);
      expect(await counts()).toEqual(before);
    });

    it('refuses an instance of another study when the request names a study', async () => {
      if (!available) return;
      const { body, contentType } = buildMultipartRelated([sharedFile(RG1_JLSN)], 'application/dicom');
      const res = await stow(body, contentType, tokens.TECHNICIAN!, `/dicom-web/studies/${DX_CHEST_STUDY}`);
      expect(res.status).toBe(409);
      expect(failures(res.body).map((f) => f.code)).toEqual(['STUDY_UID_MISMATCH']);
    });

    it('requires IMPORT_STUDIES: 401 without a token, 403 for a radiologist', async () => {
      if (!available) return;
      const { body, contentType } = buildMultipartRelated([sharedFile(RG1_JLSN)], 'application/dicom');
      const anon = await fetch(`${t.app.url}/dicom-web/studies`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      expect(anon.status).toBe(401);
      const res = await stow(body, contentType, tokens.RADIOLOGIST!);
      expect([res.status, res.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    });
  });

  it('counts ingested instances by source, outcome and code on /metrics', async () => {
    if (!available) return;
    const text = await (await fetch(`${t.app.url}/metrics`)).text();
    const value = (labels: string) =>
      Number(
        new RegExp(`^care_companion_dicom_instances_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0,
      );
    expect(value('source="IMPORT",status="STORED",code="none"')).toBeGreaterThanOrEqual(2);
    expect(value('source="IMPORT",status="FAILED",code="BODY_PART_NOT_SUPPORTED"')).toBe(4);
    expect(value('source="STOW",status="FAILED",code="CORRUPT_IMAGE"')).toBe(2);
    expect(value('source="STOW",status="FAILED",code="UPLOAD_TOO_LARGE"')).toBe(1);
  });

  describe('results out', () => {
    beforeAll(async () => {
      if (!available) return;
      const res = await t.gql<{ analyzeStudy: { id: string; gateVerdict: string; warning: string } }>(
        tokens.TECHNICIAN!,
        'mutation($id: ID!) { analyzeStudy(studyId: $id) { id gateVerdict warning } }',
        { id: chestStudyId },
      );
      expect(res.errors).toBeUndefined();
      predictionId = res.data!.analyzeStudy.id;
    }, 120_000);

    it('stores the AI report as a DICOM SR in the source study on the PACS, valid for dsrdump, found again with QIDO-RS', async () => {
      if (!available) return;
      const exportQuery =
        'mutation($id: ID!) { exportPredictionToPacs(predictionId: $id) { studyInstanceUid seriesInstanceUid sopInstanceUid sopClassUid } }';
      const res = await t.gql<{
        exportPredictionToPacs: {
          studyInstanceUid: string;
          seriesInstanceUid: string;
          sopInstanceUid: string;
          sopClassUid: string;
        };
      }>(tokens.RADIOLOGIST!, exportQuery, { id: predictionId });
      expect(res.errors).toBeUndefined();
      const exp = res.data!.exportPredictionToPacs;
      expect(exp.studyInstanceUid).toBe(RG1_CHEST_STUDY);
      expect(exp.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.88.33');
      expect(exp.sopInstanceUid).toMatch(/^2\.25\.\d+$/);

      const found = await pacs.searchInstances(RG1_CHEST_STUDY, { Modality: 'SR' });
      expect(found.map((d) => jsonString(d, '00080018'))).toEqual([exp.sopInstanceUid]);

      const file = await pacs.retrieveInstance(RG1_CHEST_STUDY, exp.seriesInstanceUid, exp.sopInstanceUid);
      const dir = mkdtempSync(join(tmpdir(), 'cc-sr-'));
      try {
        const path = join(dir, 'report.dcm');
        writeFileSync(path, file);
        const dump = spawnSync('dsrdump', ['+Pl', '+Pu', '+Pc', path], { encoding: 'utf8' });
        expect({ status: dump.status, stderr: dump.stderr }).toEqual({ status: 0, stderr: '' });
        expect(dump.stdout).toContain('Comprehensive SR Document');
        expect(dump.stdout).toContain('Verification Flag   : UNVERIFIED');
        expect(dump.stdout).toContain(AI_ASSISTANCE_WARNING);
        expect(dump.stdout).toContain(`"Algorithm Version")="${await shippedVersion('chest')}"`);
        expect(dump.stdout).toMatch(/NUM:\(233604007,SCT,"Pneumonia"\)="0\.\d{4}"/);
        expect(dump.stdout).toContain('1.3.6.1.4.1.5962.1.1.9.1.3.20040826185059.5457');
        const meta = spawnSync('dcmdump', ['+P', '0040,a375', '+P', '0008,1155', '+P', '0010,0020', path], {
          encoding: 'utf8',
        });
        expect(meta.stdout).toContain('CurrentRequestedProcedureEvidenceSequence');
        expect(meta.stdout).toContain('[1.3.6.1.4.1.5962.1.1.9.1.7.20040826185059.5457]');
        expect(meta.stdout).toContain('[9RG1]');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }

      // Exporting again names the same object: the PACS still holds one report.
      const again = await t.gql<{ exportPredictionToPacs: { sopInstanceUid: string } }>(
        tokens.ADMIN!,
        exportQuery,
        { id: predictionId },
      );
      expect(again.data!.exportPredictionToPacs.sopInstanceUid).toBe(exp.sopInstanceUid);
      expect(await pacs.searchInstances(RG1_CHEST_STUDY, { Modality: 'SR' })).toHaveLength(1);
    });

    it('serves the FHIR R4 DiagnosticReport and a Bundle in which every reference resolves', async () => {
      if (!available) return;
      const get = (path: string, token = tokens.INTEGRATOR!) =>
        fetch(`${t.app.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const single = await get(`/fhir/DiagnosticReport/${predictionId}`);
      expect(single.status).toBe(200);
      expect(single.headers.get('content-type')).toContain('application/fhir+json');
      const report = (await single.json()) as Record<string, any>;
      expect(report).toMatchObject({
        resourceType: 'DiagnosticReport',
        id: predictionId,
        status: 'preliminary',
      });
      expect(report.conclusion).toContain(AI_ASSISTANCE_WARNING);
      // The chest is read from one film: XR Chest Single view (not the two-view code).
      expect(report.code.coding[0]).toMatchObject({ system: 'http://loinc.org', code: '36554-4' });

      const res = await get(`/fhir/DiagnosticReport?_id=${predictionId}`);
      expect(res.status).toBe(200);
      const bundle = (await res.json()) as {
        resourceType: string;
        type: string;
        entry: { fullUrl: string; resource: Record<string, any>; search: { mode: string } }[];
      };
      expect([bundle.resourceType, bundle.type]).toEqual(['Bundle', 'searchset']);
      const byRef = new Map(bundle.entry.map((e) => [`${e.resource.resourceType}/${e.resource.id}`, e]));
      // fullUrl ends with Type/id; ids follow the FHIR id rule.
      for (const e of bundle.entry) {
        expect(e.fullUrl.endsWith(`/${e.resource.resourceType}/${e.resource.id}`)).toBe(true);
        expect(e.resource.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
      }
      expect(byRef.size).toBe(bundle.entry.length);
      // Every reference anywhere in the Bundle resolves to an entry.
      const refs: string[] = [];
      const walk = (v: unknown) => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') {
          for (const [k, x] of Object.entries(v)) {
            if (k === 'reference' && typeof x === 'string') refs.push(x);
            else walk(x);
          }
        }
      };
      bundle.entry.forEach((e) => walk(e.resource));
      expect(refs.length).toBeGreaterThan(3);
      for (const ref of refs) expect(byRef.has(ref)).toBe(true);
      const dr = bundle.entry[0]!.resource;
      expect([dr.resourceType, bundle.entry[0]!.search.mode]).toEqual(['DiagnosticReport', 'match']);
      const observations = bundle.entry
        .filter((e) => e.resource.resourceType === 'Observation')
        .map((e) => e.resource);
      expect(observations.map((o) => o.code.coding[0].code).sort()).toEqual([
        '17621005',
        '233604007',
        '56717001',
      ]);
      for (const o of observations) {
        expect(o.status).toBe('preliminary');
        expect(o.subject.reference).toBe(dr.subject.reference);
        expect(o.valueQuantity.value).toBeGreaterThanOrEqual(0);
        expect(o.valueQuantity.value).toBeLessThanOrEqual(1);
        expect(o.valueQuantity).toMatchObject({ system: 'http://unitsofmeasure.org', code: '1' });
      }
      const sum = observations.reduce((s, o) => s + o.valueQuantity.value, 0);
      expect(sum).toBeCloseTo(1, 2);
      const patient = byRef.get(dr.subject.reference)!.resource;
      expect(patient).toMatchObject({ resourceType: 'Patient', gender: 'female', birthDate: '1940-03-05' });
      expect(patient.identifier[0].value).toBe('9RG1');
      const imaging = byRef.get(dr.imagingStudy[0].reference)!.resource;
      expect(imaging.identifier[0].value).toBe(`urn:oid:${RG1_CHEST_STUDY}`);

      // Timestamps are FHIR instants (with a zone); errors are OperationOutcomes with our code.
      expect(dr.issued).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      const outcome = async (res: Response) => {
        const body = (await res.json()) as {
          resourceType: string;
          issue: { code: string; details: { coding: { code: string }[] } }[];
        };
        return [res.status, body.resourceType, body.issue[0]!.code, body.issue[0]!.details.coding[0]!.code];
      };
      expect(await outcome(await get(`/fhir/DiagnosticReport/${predictionId}`, tokens.TECHNICIAN!))).toEqual([
        403,
        'OperationOutcome',
        'forbidden',
        'FORBIDDEN',
      ]);
      expect(await outcome(await get('/fhir/DiagnosticReport/00000000-0000-4000-8000-000000000000'))).toEqual(
        [404, 'OperationOutcome', 'not-found', 'NOT_FOUND'],
      );
      expect(await outcome(await get('/fhir/DiagnosticReport'))).toEqual([
        400,
        'OperationOutcome',
        'invalid',
        'BAD_USER_INPUT',
      ]);
    });
  });
});
