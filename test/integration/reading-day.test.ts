/**
 * A whole day of one radiology department on one server, across the four roles, on real films and the
 * real models (issue 15, "done when"): the technician registers and films patients (a DICOM of another
 * patient is refused with its code before it goes to the right study) and submits a batch; the
 * integrator follows the batch and its results live; the radiologist drafts and approves a note, then
 * signs a final read that corrects the AI (the note is invalidated, the next one follows the read, FHIR
 * is final) and asks for a re-read; the admin finds every step, and every refusal, in the audit trail.
 * Nothing depends on what a model version happens to say: the read corrects whatever the AI flagged.
 */
import { existsSync } from 'node:fs';
import { Role } from '../../src/domain/enums';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { actUntilReceived, connectWs, subscribe, WsConnection } from '../support/graphql-ws-client';
import { sharedDataAvailable, sharedFile } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const DX = 'dicom/real_radiographs/DX_chest_MONO1_j2k_lossless_966_fixed.dcm';
const DX_MRN = '2010101610-1';
const DX_ACCESSION = 'd14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f';
const PNEUMONIA_FILM = 'chest/kermany/test/PNEUMONIA/person100_bacteria_475.jpeg';
const TB_FILM = 'chest/tbx11k/images/tb0003.jpg';

const ready =
  sharedDataAvailable() &&
  requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained models under models/');
const codes = (errors?: { extensions?: { code?: string } }[]) =>
  (errors ?? []).map((e) => e.extensions?.code);

let t: TestApp;
const token = {} as Record<Role, string>;
let ws: WsConnection;

beforeAll(async () => {
  if (!ready) return;
  t = await startTestApp({ ANALYSIS_WORKERS: '1', RETRAIN_WORKERS: '0' });
  for (const role of Object.values(Role)) token[role] = await t.tokenFor(role);
  ws = connectWs(t.app.url, { authorization: `Bearer ${token.INTEGRATOR}` });
  await ws.connected;
}, 60_000);
afterAll(async () => {
  await ws?.dispose();
  await t?.stop();
});

it('plays a day: intake, a refused DICOM, a batch followed live, a read that corrects a drafted note, a re-read, the audit', async () => {
  if (!ready) return;
  const { TECHNICIAN: tech, RADIOLOGIST: rad, INTEGRATOR: integrator, ADMIN: admin } = token;

  // The integrator follows jobs and results from the start of the day.
  const jobs = subscribe<{
    analysisJobUpdated: { id: string; status: string; completed: number; failed: number };
  }>(ws.client, 'subscription { analysisJobUpdated { id status completed failed } }');
  const results = subscribe<{ predictionCompleted: { id: string; outcome: string; flagged: boolean } }>(
    ws.client,
    'subscription { predictionCompleted { id outcome flagged } }',
  );
  // graphql-ws does not acknowledge subscriptions: a job of a study without films, until it is seen.
  const empty = await createStudy(t, tech, await createPatient(t, tech), 'CHEST');
  await actUntilReceived(jobs, async () => {
    const r = await t.gql<{ submitStudies: { id: string } }>(
      tech,
      'mutation($s: ID!) { submitStudies(studyIds: [$s]) { id } }',
      {
        s: empty,
      },
    );
    return (e) =>
      e.analysisJobUpdated.id === r.data!.submitStudies.id && e.analysisJobUpdated.status === 'FAILED';
  });

  // Morning intake by the technician.
  const patient = await createPatient(t, tech);
  const pneumonia = await createStudy(t, tech, patient, 'CHEST');
  await attach(t, tech, pneumonia, PNEUMONIA_FILM, 'AP');
  const tb = await createStudy(t, tech, patient, 'CHEST');
  await attach(t, tech, tb, TB_FILM, 'PA');
  // A DICOM of another patient is refused at this patient's study, and goes to its own patient's.
  const upload = await fetch(`${t.app.url}/uploads`, {
    method: 'POST',
    headers: { 'content-type': 'application/dicom', authorization: `Bearer ${tech}` },
    body: sharedFile(DX),
  });
  const { uploadId } = (await upload.json()) as { uploadId: string };
  const wrongStudy = await createStudy(t, tech, patient, 'CHEST');
  const refused = await t.gql(tech, 'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }', {
    i: { studyId: wrongStudy, uploadId, view: 'PA' },
  });
  expect(codes(refused.errors)).toEqual(['PATIENT_MISMATCH']);
  const owner = await t.gql<{ createPatient: { id: string } }>(
    tech,
    'mutation($m: String!) { createPatient(input: {mrn: $m, givenName: "Day", familyName: "Owner"}) { id } }',
    { m: DX_MRN },
  );
  const dxStudy = await t.gql<{ createStudy: { id: string } }>(
    tech,
    'mutation($p: ID!, $a: String!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: $a}) { id } }',
    { p: owner.data!.createPatient.id, a: DX_ACCESSION },
  );
  const dx = dxStudy.data!.createStudy.id;
  const attached = await t.gql(tech, 'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }', {
    i: { studyId: dx, uploadId, view: 'PA' },
  });
  expect(attached.errors).toBeUndefined();

  // The batch, followed by the integrator until every study is counted.
  const submitted = await t.gql<{ submitStudies: { id: string } }>(
    tech,
    'mutation($ids: [ID!]!) { submitStudies(studyIds: $ids) { id } }',
    { ids: [pneumonia, tb, dx] },
  );
  expect(submitted.errors).toBeUndefined();
  const jobId = submitted.data!.submitStudies.id;
  const finished = await jobs.waitForEvent(
    (e) =>
      e.analysisJobUpdated.id === jobId && e.analysisJobUpdated.completed + e.analysisJobUpdated.failed === 3,
    120_000,
  );
  expect(finished.analysisJobUpdated).toMatchObject({ status: 'COMPLETED', completed: 3, failed: 0 });
  const job = await t.gql<{ analysisJob: { results: { studyId: string; predictionId: string }[] } }>(
    integrator,
    'query($id: ID!) { analysisJob(id: $id) { results { studyId predictionId } } }',
    { id: jobId },
  );
  const predictionOf = new Map(job.data!.analysisJob.results.map((r) => [r.studyId, r.predictionId]));
  expect([...predictionOf.keys()].sort()).toEqual([pneumonia, tb, dx].sort());
  for (const id of predictionOf.values()) {
    const event = await results.waitForEvent((e) => e.predictionCompleted.id === id, 10_000);
    expect(event.predictionCompleted.flagged).toBe(
      event.predictionCompleted.outcome === 'FLAGGED_FOR_REVIEW',
    );
  }

  // QA for the technician: the record and the gate, not the diagnosis.
  const qa = await t.gql<{ prediction: { gateVerdict: string; label: string | null } }>(
    tech,
    'query($id: ID!) { prediction(id: $id) { gateVerdict label } }',
    { id: predictionOf.get(pneumonia) },
  );
  expect(qa.data!.prediction.gateVerdict).toBe('ACCEPTED');
  expect(codes(qa.errors)).toEqual(['FORBIDDEN']);

  // The radiologist drafts and approves a patient note from the AI reading.
  const p1 = predictionOf.get(pneumonia)!;
  const aiReading = await t.gql<{ prediction: { assessments: { label: string; flagged: boolean }[] } }>(
    rad,
    'query($id: ID!) { prediction(id: $id) { assessments { label flagged } } }',
    { id: p1 },
  );
  const drafted = await t.gql<{ generateNote: { id: string; source: string } }>(
    rad,
    'mutation($p: ID!) { generateNote(predictionId: $p, audience: PATIENT) { id source releasable } }',
    { p: p1 },
  );
  expect(drafted.data!.generateNote.source).toBe('AI');
  const noteId = drafted.data!.generateNote.id;
  expect(
    (await t.gql(rad, 'mutation($id: ID!) { approveNote(id: $id) { id } }', { id: noteId })).errors,
  ).toBeUndefined();

  // ... then reads the film and disagrees with the AI on every finding (a correction after the note).
  expect(
    (await t.gql(rad, 'mutation($s: ID!) { startReview(studyId: $s) { status } }', { s: pneumonia })).errors,
  ).toBeUndefined();
  const corrected = aiReading.data!.prediction.assessments.map((a) => ({
    label: a.label,
    present: !a.flagged,
  }));
  const signed = await t.gql<{ signFinalRead: { agreement: string; status: string } }>(
    rad,
    'mutation($s: ID!, $f: [ReadFindingInput!]!) { signFinalRead(input: {studyId: $s, findings: $f, conclusion: "Read by the radiologist."}) { agreement status } }',
    { s: pneumonia, f: corrected },
  );
  expect(signed.data!.signFinalRead).toEqual({ agreement: 'CORRECTED', status: 'FINAL' });
  const retracted = await t.gql<{ clinicalNote: { status: string; invalidationReason: string } }>(
    integrator,
    'query($id: ID!) { clinicalNote(id: $id) { status invalidationReason } }',
    { id: noteId },
  );
  expect(retracted.data!.clinicalNote.status).toBe('INVALIDATED');
  const next = await t.gql<{ generateNote: { source: string; statedFindings: string[] } }>(
    rad,
    'mutation($p: ID!) { generateNote(predictionId: $p, audience: CLINICIAN) { source statedFindings } }',
    { p: p1 },
  );
  expect(next.data!.generateNote).toEqual({
    source: 'RADIOLOGIST',
    statedFindings: corrected.filter((f) => f.present).map((f) => f.label),
  });
  const fhir = await fetch(`${t.app.url}/fhir/DiagnosticReport/${p1}`, {
    headers: { authorization: `Bearer ${integrator}` },
  });
  expect(((await fhir.json()) as { status: string }).status).toBe('final');

  // A re-read of the TB study on request, linked to the batch's reading.
  const reread = await t.gql<{ analyzeStudy: { id: string; rereadOfId: string } }>(
    rad,
    'mutation($s: ID!) { analyzeStudy(studyId: $s, reread: true) { id rereadOfId } }',
    { s: tb },
  );
  expect(reread.data!.analyzeStudy.rereadOfId).toBe(predictionOf.get(tb));

  // The integrator finds the signed study by its final read.
  const inForce = await t.gql<{ study: { finalRead: { label: string } } }>(
    rad,
    'query($id: ID!) { study(id: $id) { finalRead { label } } }',
    { id: pneumonia },
  );
  const finalLabel = inForce.data!.study.finalRead.label;
  const byRead = await t.gql<{ studies: { edges: { node: { id: string } }[] } }>(
    integrator,
    'query($l: String!) { studies(first: 50, filter: {finalLabel: $l}) { edges { node { id } } } }',
    { l: finalLabel },
  );
  expect(byRead.data!.studies.edges.map((e) => e.node.id)).toContain(pneumonia);

  // The admin's evening: the trail holds the refusals and the reading steps, by operation.
  const trail = await t.gql<{
    auditEvents: { edges: { node: { action: string; operation: string; entityType: string } }[] };
  }>(
    admin,
    '{ auditEvents(first: 100, filter: {action: DENIED}) { edges { node { action operation entityType entityId } } } }',
  );
  expect(trail.data!.auditEvents.edges.map((e) => e.node)).toContainEqual(
    expect.objectContaining({ operation: 'query prediction', entityId: 'prediction.label' }),
  );
  const steps = await t.gql<{
    auditEvents: { edges: { node: { operation: string; entityType: string } }[] };
  }>(
    admin,
    '{ auditEvents(first: 100, filter: {entityType: "StudyRead"}) { edges { node { operation entityType } } } }',
  );
  expect(steps.data!.auditEvents.edges.map((e) => e.node.operation)).toContain('mutation signFinalRead');
  // Patient data stays out of the admin's reach.
  expect(
    codes((await t.gql(admin, 'query($id: ID!) { study(id: $id) { id } }', { id: pneumonia })).errors),
  ).toEqual(['FORBIDDEN']);
  jobs.stop();
  results.stop();
}, 240_000);
