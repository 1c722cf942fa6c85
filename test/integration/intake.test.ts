import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Role } from '../../src/domain/enums';
import { startTestApp, TestApp } from '../support/test-app';
import { fixtureFile, sharedDataAvailable, sharedFile } from '../support/shared-data';

const CHEST_JPEG = 'chest/kermany/train/NORMAL/IM-0115-0001.jpeg';
const PNG16 = 'wrist_grazpedwri_metadata/sample_images/0001_1297860395_01_WRI-L1_M014.png';
const DICOM_J2K = 'dicom/real_radiographs/CR_chest_MONO1_j2k_lossy_RG1_J2KI.dcm';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('radiograph intake over HTTP', () => {
  let t: TestApp;
  let tech: string;
  let studyId: string;

  beforeAll(async () => {
    t = await startTestApp({ MAX_IMAGE_PIXELS: '4500000', MAX_UPLOAD_BYTES: String(12 * 1024 * 1024) });
    tech = await t.tokenFor(Role.TECHNICIAN);
    const p = await t.gql<{ createPatient: { id: string } }>(
      tech,
      'mutation { createPatient(input: {mrn: "IN-1", givenName: "In", familyName: "Take"}) { id } }',
    );
    const s = await t.gql<{ createStudy: { id: string } }>(
      tech,
      'mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: "IN-ACC-1"}) { id } }',
      { p: p.data!.createPatient.id },
    );
    studyId = s.data!.createStudy.id;
  });
  afterAll(async () => t?.stop());

  async function upload(body: Buffer, contentType: string, token = tech) {
    const res = await fetch(`${t.app.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
      body,
    });
    return {
      status: res.status,
      body: (await res.json()) as {
        uploadId?: string;
        error?: { code: string };
        width?: number;
        bitsStored?: number;
      },
    };
  }

  async function counts() {
    const conn = t.app.orm.em.getConnection();
    const [u] = await conn.execute('select count(*)::int as n from upload');
    const [i] = await conn.execute('select count(*)::int as n from image');
    const objects = filesUnder(t.storageDir).filter((f) => !f.endsWith('~meta.json'));
    return { uploads: u.n as number, images: i.n as number, objects: objects.length };
  }

  it.each([
    [CHEST_JPEG, 'image/jpeg', 8],
    [PNG16, 'image/png', 16],
    [DICOM_J2K, 'application/dicom', 15],
  ])('uploads %s, attaches it, and serves the same bytes back', async (file, type, bits) => {
    const bytes = fixtureFile(file);
    const up = await upload(bytes, type);
    expect(up.status).toBe(201);
    expect(up.body.bitsStored).toBe(bits);
    const attached = await t.gql<{ attachImage: { id: string; url: string; sha256: string } }>(
      tech,
      'mutation($i: AttachImageInput!) { attachImage(input: $i) { id url sha256 } }',
      {
        i: {
          studyId,
          uploadId: up.body.uploadId,
          view: 'PA',
          // The shared DICOM names another patient and order than this fixture's study.
          override: { accept: ['PATIENT_MISMATCH', 'ACCESSION_MISMATCH'], reason: 'shared test film' },
        },
      },
    );
    expect(attached.errors).toBeUndefined();
    expect(attached.data!.attachImage.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const back = await fetch(`${t.app.url}${attached.data!.attachImage.url}`, {
      headers: { authorization: `Bearer ${tech}` },
    });
    expect(back.status).toBe(200);
    expect(Buffer.from(await back.arrayBuffer()).equals(bytes)).toBe(true);
    const again = await t.gql(tech, 'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }', {
      i: { studyId, uploadId: up.body.uploadId, view: 'PA' },
    });
    expect(again.errors?.[0].extensions?.code).toBe('INVALID_STATE');
  });

  it('marks the study IMAGES_ATTACHED', async () => {
    const s = await t.gql<{ study: { status: string; images: unknown[] } }>(
      tech,
      'query($id: ID!) { study(id: $id) { status images { id } } }',
      { id: studyId },
    );
    expect(s.data!.study.status).toBe('IMAGES_ATTACHED');
    expect(s.data!.study.images.length).toBe(3);
  });

  it.each([
    ['zero bytes', Buffer.alloc(0), 'application/dicom', 422, 'EMPTY_UPLOAD'],
    ['text', Buffer.from('hello, not an image'), 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'unknown bytes',
      Buffer.from('hello, not an image at all'),
      'application/octet-stream',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['PNG declared as JPEG', () => fixtureFile(PNG16), 'image/jpeg', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'truncated J2K stream',
      () => fixtureFile('dicom/known_bad/CR_chest_RG1_J2KI_truncated_j2k_stream.dcm'),
      'application/dicom',
      422,
      'CORRUPT_IMAGE',
    ],
    [
      'structured report',
      () => fixtureFile('dicom/pydicom_debian_test_files/test-SR.dcm'),
      'application/dicom',
      422,
      'NOT_AN_IMAGE',
    ],
    [
      'RT plan',
      () => fixtureFile('dicom/pydicom_debian_test_files/rtplan.dcm'),
      'application/dicom',
      422,
      'NOT_AN_IMAGE',
    ],
    [
      'multi-frame',
      () => fixtureFile('dicom/pydicom_data_extra/emri_small_RLE.dcm'),
      'application/dicom',
      422,
      'MULTI_FRAME_NOT_SUPPORTED',
    ],
    [
      'over the pixel limit',
      // A 5 MP film: none in test/fixtures is that large, so this case needs the shared set.
      () =>
        sharedDataAvailable()
          ? sharedFile('dicom/real_radiographs/CR_hand_MONO2_j2k_lossless_Kakadu44_SOTmarkerincons.dcm')
          : null,
      'application/dicom',
      413,
      'IMAGE_TOO_LARGE',
    ],
    ['over the byte limit', Buffer.alloc(13 * 1024 * 1024, 1), 'application/dicom', 413, 'PAYLOAD_TOO_LARGE'],
  ])('refuses %s with a clear code and stores nothing', async (_name, data, type, status, code) => {
    const before = await counts();
    const bytes = typeof data === 'function' ? data() : data;
    if (bytes === null) return;
    const res = await upload(bytes, type);
    expect(res.body.error?.code).toBe(code);
    expect(res.status).toBe(status);
    expect(await counts()).toEqual(before);
  });

  it('refuses uploads from roles that may not upload, and unauthenticated ones', async () => {
    const radiologist = await t.tokenFor(Role.RADIOLOGIST);
    expect((await upload(fixtureFile(CHEST_JPEG), 'image/jpeg', radiologist)).body.error?.code).toBe(
      'FORBIDDEN',
    );
    const anon = await fetch(`${t.app.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: fixtureFile(CHEST_JPEG),
    });
    expect(anon.status).toBe(401);
  });

  it('accepts a small inline base64 image and refuses one over the inline limit', async () => {
    const ok = await t.gql<{ uploadImageBase64: { id: string } }>(
      tech,
      'mutation($i: UploadImageBase64Input!) { uploadImageBase64(input: $i) { id format } }',
      {
        i: { studyId, view: 'AP', dataBase64: fixtureFile(CHEST_JPEG).toString('base64') },
      },
    );
    expect(ok.errors).toBeUndefined();
    const big = await t.gql(
      tech,
      'mutation($i: UploadImageBase64Input!) { uploadImageBase64(input: $i) { id } }',
      {
        i: { studyId, view: 'AP', dataBase64: Buffer.alloc(2.5 * 1024 * 1024, 7).toString('base64') },
      },
    );
    expect(big.errors?.[0].extensions?.code).toBe('UPLOAD_TOO_LARGE');
    const junk = await t.gql(
      tech,
      'mutation($i: UploadImageBase64Input!) { uploadImageBase64(input: $i) { id } }',
      {
        i: { studyId, view: 'AP', dataBase64: '!!!not base64!!!' },
      },
    );
    expect(junk.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('keeps the database and the object store in agreement when the row cannot be written', async () => {
    const conn = t.app.orm.em.getConnection();
    await conn.execute(
      `create function fail_upload() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`,
    );
    await conn.execute(
      'create trigger fail_upload before insert on upload for each row execute function fail_upload()',
    );
    const before = await counts();
    try {
      const bytes = fixtureFile('chest/kermany/train/NORMAL/IM-0117-0001.jpeg'); // not uploaded before: a new object key
      const res = await upload(bytes, 'image/jpeg');
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(await counts()).toEqual(before);
    } finally {
      await conn.execute('drop trigger fail_upload on upload');
      await conn.execute('drop function fail_upload()');
    }
  });

  it('answers every mutated file with a stored image or a clear 4xx code, never a crash or a partial record', async () => {
    const seeds = [
      CHEST_JPEG,
      PNG16,
      'dicom/real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm',
      'dicom/pydicom_debian_test_files/MR_small_RLE.dcm',
    ];
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const codes = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const original = fixtureFile(seeds[i % seeds.length]);
      let bytes = Buffer.from(original);
      const kind = i % 3;
      if (kind === 0) bytes = bytes.subarray(0, Math.floor(rand() * bytes.length));
      else if (kind === 1)
        for (let k = 0; k < 8; k++)
          bytes[Math.floor(rand() * Math.min(bytes.length, 2048))] ^= 1 << Math.floor(rand() * 8);
      else for (let k = 0; k < 32; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      const res = await upload(bytes, 'application/octet-stream');
      expect(res.status === 201 || (res.status >= 400 && res.status < 500)).toBe(true);
      const code = res.status === 201 ? 'STORED' : res.body.error!.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    const c = await counts();
    const distinct = await t.app.orm.em
      .getConnection()
      .execute('select count(distinct object_key)::int as n from upload');
    expect(c.objects).toBe(distinct[0].n);
    expect(codes.size).toBeGreaterThan(1);
  });
});
