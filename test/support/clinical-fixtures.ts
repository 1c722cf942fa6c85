import type { TestApp } from './test-app';
import { datasetFile } from './shared-data';

let seq = 0;

/** Registers a patient (unique MRN) and returns its id. */
export async function createPatient(t: TestApp, token: string): Promise<string> {
  const r = await t.gql<{ createPatient: { id: string } }>(
    token,
    'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
    {
      i: { mrn: `FX-${process.pid}-${++seq}`, givenName: 'Fixture', familyName: `Patient${seq}` },
    },
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.createPatient.id;
}

/** Registers a study and returns its id. */
export async function createStudy(
  t: TestApp,
  token: string,
  patientId: string,
  bodyPart: 'CHEST' | 'WRIST',
  priority = 'ROUTINE',
): Promise<string> {
  const r = await t.gql<{ createStudy: { id: string } }>(
    token,
    'mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }',
    {
      i: { patientId, bodyPart, priority, accessionNumber: `ACC-${process.pid}-${++seq}` },
    },
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.createStudy.id;
}

const TYPES: Record<string, string> = {
  dcm: 'application/dicom',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
};

/**
 * Uploads a data set file (or bytes) and attaches it to a study with a view; returns the image id. A path
 * names the committed fixture when `test/fixtures/` holds it, else the file under the shared `datasets/`.
 * `override` accepts named mismatches of a DICOM header with the study (a test film of another patient).
 */
export async function attach(
  t: TestApp,
  token: string,
  studyId: string,
  file: string | Buffer,
  view: string,
  contentType?: string,
  override?: { accept: string[]; reason: string },
): Promise<string> {
  const bytes = typeof file === 'string' ? datasetFile(file) : file;
  const type =
    contentType ??
    (typeof file === 'string' ? TYPES[file.split('.').pop()!.toLowerCase()] : 'application/octet-stream');
  const up = await fetch(`${t.app.url}/uploads`, {
    method: 'POST',
    headers: { 'content-type': type, authorization: `Bearer ${token}` },
    body: bytes,
  });
  const body = (await up.json()) as { uploadId?: string; error?: unknown };
  if (up.status !== 201) throw new Error(`upload failed: ${JSON.stringify(body)}`);
  const r = await t.gql<{ attachImage: { id: string } }>(
    token,
    'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }',
    {
      i: { studyId, uploadId: body.uploadId, view, ...(override ? { override } : {}) },
    },
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.attachImage.id;
}
