/**
 * PHI never reaches logs or error messages: a server process runs a realistic flow at LOG_LEVEL=debug
 * (patients with distinctive names, MRNs and birth dates; JPEG and DICOM uploads whose DICOM header
 * carries the patient's name, id and birth date; analyses, a batch job, searches; and errors
 * provoked with PHI in the input), and the test scans everything the process wrote and every error
 * returned to the client for those values.
 *
 * M2 (security row): input PostgreSQL cannot store used to reach it, fail there, answer 503 and be
 * logged with the SQL and its values inlined (MRN, name, birth date): `createPatient` with birth date
 * 0000-01-01, any string holding U+0000, a STOW instance with DA 00000101. The second test drives
 * those three inputs.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Role } from '../../src/domain/enums';
import { buildMultipartRelated } from '../../src/interop/multipart';
import { fixtureFile, fixturePath } from '../support/shared-data';
import { killAllServerProcesses, ServerProcess, startServerProcess } from '../support/server-process';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';
import { subscribe, wsClient } from '../support/ws-client';
import { seedUsers } from '../support/seed-users';

const SECRET = 'phi-logs-secret-phi-logs-secret-phi-logs';
const PATIENTS = [
  { mrn: 'PHIMRN-884211', givenName: 'Quillonia', familyName: 'Vexmorrow', birthDate: '1937-03-29' },
  { mrn: 'PHIMRN-530977', givenName: 'Ambrosine', familyName: 'Thistlewood', birthDate: '1941-11-07' },
];
/** Every value that must never appear in a log line or an error message (DICOM spellings too). */
const PHI = PATIENTS.flatMap((p) => [
  p.mrn,
  p.givenName,
  p.familyName,
  p.birthDate,
  p.birthDate.replace(/-/g, ''),
]);
const DICOM_FILE = 'dicom/real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm';
/** Patients of the M2 inputs: what PostgreSQL cannot store, next to names that must not be logged. */
const UNSTORABLE = [
  { mrn: 'PHIMRN-220011', givenName: 'Ozymandra', familyName: 'Quenteley', birthDate: '0000-01-01' },
  {
    mrn: 'PHIMRN-220012',
    givenName: 'Peregrinia\u0000',
    familyName: 'Wolstencroft',
    birthDate: '1950-05-05',
  },
  { mrn: 'PHIMRN-220013', givenName: 'Sidonelle', familyName: 'Abernathwick', birthDate: '0000-01-01' },
];
const UNSTORABLE_PHI = UNSTORABLE.flatMap((p) => [p.mrn, p.givenName.replace('\u0000', ''), p.familyName]);

describe('PHI stays out of logs and error messages', () => {
  const ready =
    requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained models under models/') &&
    requireOrSkip(existsSync('/usr/bin/dcmodify'), 'dcmodify (Debian package dcmtk) to write DICOM headers');
  let db: TestDatabase;
  let server: ServerProcess;
  let storageDir: string;
  let tech: string;
  let radiologist: string;
  /** Error messages and bodies returned to the client. */
  const errorsSeen: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    if (!ready || !requireOrSkip(db.real, 'a real PostgreSQL (DATABASE_URL) for a server process')) return;
    ({ TECHNICIAN: tech, RADIOLOGIST: radiologist } = await seedUsers(
      db.url,
      SECRET,
      [Role.TECHNICIAN, Role.RADIOLOGIST],
      'phi',
    ));
    storageDir = mkdtempSync(join(tmpdir(), 'cc-phi-'));
  }, 120_000);

  // A server per test: each test stops it and reads its whole output before scanning it.
  beforeEach(async () => {
    if (!ready || !db.real) return;
    server = await startServerProcess({
      DATABASE_URL: db.url,
      AUTH_SECRET: SECRET,
      STORAGE_FS_DIR: storageDir,
      LOG_LEVEL: 'debug',
      ANALYSIS_WORKERS: '1',
      DECODE_WORKERS: '0',
    });
  }, 120_000);

  afterEach(() => killAllServerProcesses());

  afterAll(async () => {
    await killAllServerProcesses();
    await db?.drop();
    if (storageDir) rmSync(storageDir, { recursive: true, force: true });
  });

  async function gql<T = Record<string, unknown>>(
    token: string,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }> {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as {
      data?: T;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
    if (body.errors) errorsSeen.push(JSON.stringify(body.errors));
    return body;
  }

  async function upload(bytes: Buffer, type: string): Promise<{ status: number; uploadId?: string }> {
    const res = await fetch(`${server.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': type, authorization: `Bearer ${tech}` },
      body: bytes,
    });
    const text = await res.text();
    if (res.status >= 400) errorsSeen.push(text);
    return { status: res.status, uploadId: (JSON.parse(text) as { uploadId?: string }).uploadId };
  }

  /** A copy of a shared DICOM whose header names the patient (`extra`: more dcmodify -i assignments). */
  function dicomOf(p: (typeof PATIENTS)[number], extra: string[] = []): Buffer {
    const dir = mkdtempSync(join(tmpdir(), 'cc-phi-dcm-'));
    const file = join(dir, 'x.dcm');
    copyFileSync(fixturePath(DICOM_FILE), file);
    execFileSync('/usr/bin/dcmodify', [
      '-nb',
      '-i',
      `(0010,0010)=${p.familyName}^${p.givenName}`,
      '-i',
      `(0010,0020)=${p.mrn}`,
      '-i',
      `(0010,0030)=${p.birthDate.replace(/-/g, '')}`,
      '-i',
      '(0018,0015)=CHEST',
      ...extra.flatMap((assignment) => ['-i', assignment]),
      file,
    ]);
    const bytes = readFileSync(file);
    rmSync(dir, { recursive: true, force: true });
    expect(bytes.includes(Buffer.from(p.familyName))).toBe(true);
    return bytes;
  }

  it('runs a full clinical flow and provoked errors without PHI in logs or error messages', async () => {
    if (!ready || !db.real) return;
    const sub = await subscribe<{ predictionCompleted: { id: string } }>(
      wsClient(server.url, radiologist),
      'subscription { predictionCompleted { id gateVerdict } }',
    );
    const studyIds: string[] = [];
    for (const [n, p] of PATIENTS.entries()) {
      const created = await gql<{ createPatient: { id: string } }>(
        tech,
        'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id mrn givenName familyName birthDate } }',
        { i: { ...p, sex: 'FEMALE' } },
      );
      expect(created.errors).toBeUndefined();
      const patientId = created.data!.createPatient.id;
      await gql(
        tech,
        'mutation($id: ID!, $i: UpdatePatientInput!) { updatePatient(id: $id, input: $i) { id } }',
        {
          id: patientId,
          i: { givenName: p.givenName, familyName: p.familyName },
        },
      );
      for (const [kind, bytes, type] of [
        ['jpeg', fixtureFile('chest/kermany/test/NORMAL/IM-0001-0001.jpeg'), 'image/jpeg'],
        ['dicom', dicomOf(p), 'application/dicom'],
      ] as const) {
        const study = await gql<{ createStudy: { id: string } }>(
          tech,
          'mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }',
          {
            i: {
              patientId,
              bodyPart: 'CHEST',
              accessionNumber: `PHI-ACC-${n}-${kind}`,
              description: `${p.familyName} chest`,
            },
          },
        );
        const up = await upload(bytes, type);
        expect(up.status).toBe(201);
        const attached = await gql(
          tech,
          'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }',
          {
            i: {
              studyId: study.data!.createStudy.id,
              uploadId: up.uploadId,
              view: 'PA',
              // The shared film's accession number is not the study's: accepted on purpose.
              override: { accept: ['ACCESSION_MISMATCH'], reason: 'shared test film' },
            },
          },
        );
        expect(attached.errors).toBeUndefined();
        studyIds.push(study.data!.createStudy.id);
      }
      // Reads by the PHI itself.
      const found = await gql<{ patients: { totalCount: number } }>(
        radiologist,
        'query($m: String, $f: String) { a: patients(filter: { mrn: $m }) { totalCount } b: patients(filter: { familyNamePrefix: $f }) { totalCount } }',
        { m: p.mrn, f: p.familyName.slice(0, 6) },
      );
      expect(found.errors).toBeUndefined();
    }
    const analysed = await gql<{ analyzeStudy: { id: string } }>(
      radiologist,
      'mutation($s: ID!) { analyzeStudy(studyId: $s) { id gateVerdict } }',
      { s: studyIds[1] },
    );
    expect(analysed.errors).toBeUndefined();
    const job = await gql<{ submitStudies: { id: string } }>(
      tech,
      'mutation($ids: [ID!]!) { submitStudies(studyIds: $ids) { id } }',
      { ids: studyIds },
    );
    expect(job.errors).toBeUndefined();
    await sub.waitFor(() => sub.events.length >= studyIds.length, 60_000);

    // Errors provoked with PHI in the input.
    const p = PATIENTS[0];
    const provoked: [string, string, Record<string, unknown>][] = [
      ['duplicate MRN', 'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }', { i: p }],
      [
        'impossible birth date',
        'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
        { i: { ...p, mrn: `${p.mrn}-2`, birthDate: `${p.birthDate.slice(0, 4)}-02-30` } },
      ],
      [
        'wrong variable types',
        'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
        {
          i: {
            mrn: p.mrn,
            givenName: p.givenName,
            familyName: p.familyName,
            birthDate: p.birthDate,
            sex: p.familyName,
          },
        },
      ],
      [
        'unknown field in the input',
        'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
        { i: { ...p, [p.givenName]: p.mrn } },
      ],
      [
        'PHI in literals of a bad document',
        `mutation { createPatient(input: { mrn: "${p.mrn}", givenName: "${p.givenName}", familyName: 7, birthDate: "${p.birthDate}" }) { id } }`,
        {},
      ],
      ['PHI as an enum value', `{ patients(filter: { mrn: ${p.familyName} }) { totalCount } }`, {}],
      ['PHI as an id', 'query($id: ID!) { patient(id: $id) { id } }', { id: p.mrn }],
      [
        'PHI in an overlong name',
        'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
        { i: { ...p, mrn: `${p.mrn}-3`, familyName: p.familyName.repeat(200) } },
      ],
      [
        'PHI as an accession of a conflicting study',
        'mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }',
        { i: { patientId: p.mrn, bodyPart: 'CHEST', accessionNumber: p.mrn } },
      ],
    ];
    for (const [what, query, variables] of provoked) {
      const r = await gql(tech, query, variables);
      expect([what, Boolean(r.errors?.length)]).toEqual([what, true]);
    }
    // A DICOM naming the patient that cannot be read, and one whose header is broken after the name.
    const broken = dicomOf(p);
    await upload(broken.subarray(0, broken.indexOf(Buffer.from(p.familyName)) + 200), 'application/dicom');
    sub.close();

    // Stop the process and read everything it wrote to the end, then scan it.
    await server.stop();
    const logText = server.logs.join('\n');
    expect(server.logs.length).toBeGreaterThan(5);
    // Control: the debug run did log requests and the analysis (the scan reads real output).
    expect(logText).toMatch(/study taken/);
    const leaks = (text: string) => PHI.filter((value) => text.includes(value));
    expect(leaks(logText)).toEqual([]);
    expect(errorsSeen.length).toBeGreaterThanOrEqual(provoked.length);
    expect(errorsSeen.filter((e) => leaks(e).length).map((e) => e.slice(0, 400))).toEqual([]);
  }, 150_000);

  it('refuses what PostgreSQL cannot store at the edge and logs no PHI: birth date 0000-01-01, U+0000, DA 00000101', async () => {
    if (!ready || !db.real) return;
    const create = 'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }';
    const [yearZero, nul, stowed] = UNSTORABLE;
    const refused = [await gql(tech, create, { i: yearZero }), await gql(tech, create, { i: nul })];
    expect(refused.map((r) => r.errors?.map((e) => e.extensions?.code))).toEqual([
      ['BAD_USER_INPUT'],
      ['BAD_USER_INPUT'],
    ]);
    // A STOW-RS instance whose Patient's Birth Date is 00000101: stored, the date left empty.
    const uid = () => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;
    const instance = dicomOf(stowed!, ['(0018,5101)=PA', `(0020,000D)=${uid()}`, `(0008,0018)=${uid()}`]);
    const { body, contentType } = buildMultipartRelated([instance], 'application/dicom');
    const res = await fetch(`${server.url}/dicom-web/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tech}`, 'content-type': contentType },
      body,
    });
    const answer = await res.text();
    expect([res.status, answer.includes('00081198')]).toEqual([200, false]);
    const found = await gql<{ patients: { edges: { node: { birthDate: string | null } }[] } }>(
      radiologist,
      'query($m: String) { patients(filter: { mrn: $m }) { edges { node { birthDate } } } }',
      { m: stowed!.mrn },
    );
    expect(found.data!.patients.edges.map((e) => e.node.birthDate)).toEqual([null]);
    // Nothing of these patients was stored or logged, and no error the client saw names them.
    await server.stop();
    const leaks = (text: string) => UNSTORABLE_PHI.filter((value) => text.includes(value));
    expect(leaks(server.logs.join('\n'))).toEqual([]);
    expect(refused.flatMap((r) => leaks(JSON.stringify(r.errors)))).toEqual([]);
  }, 60_000);
});
