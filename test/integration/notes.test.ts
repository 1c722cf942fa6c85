/**
 * Clinical notes with the embedded template backend, end to end: a real chest film analysed by the
 * real model, a drafted note streamed over graphql-ws, safety checks, radiologist approval, integrator
 * visibility and the audit trail.
 */
import { Role } from '../../src/domain/enums';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { connectWs, subscribe, WsConnection } from '../support/graphql-ws-client';
import {
  ChunkEvent,
  DRAFT_SUBSCRIPTION,
  generateNote,
  joinChunks,
  waitForCompleteStream,
  NOTE_FIELDS,
  NoteResult,
  seedPrediction,
} from '../support/note-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let t: TestApp;
let tech: string;
let radiologist: string;
let integrator: string;
let predictionId: string;
let patientId: string;
let findings: { label: string }[];
let ws: WsConnection;

const codes = (errors?: { extensions?: { code?: string } }[]) =>
  (errors ?? []).map((e) => e.extensions?.code);

beforeAll(async () => {
  t = await startTestApp({ ANALYSIS_WORKERS: '0' });
  tech = await t.tokenFor(Role.TECHNICIAN);
  radiologist = await t.tokenFor(Role.RADIOLOGIST);
  integrator = await t.tokenFor(Role.INTEGRATOR);
  patientId = await createPatient(t, tech);
  const studyId = await createStudy(t, tech, patientId, 'CHEST');
  await attach(t, tech, studyId, 'chest/kermany/test/PNEUMONIA/person100_bacteria_475.jpeg', 'AP');
  const r = await t.gql<{ analyzeStudy: { id: string; gateVerdict: string; findings: { label: string }[] } }>(
    radiologist,
    'mutation($s: ID!) { analyzeStudy(studyId: $s) { id gateVerdict findings { label } } }',
    { s: studyId },
  );
  expect(r.errors).toBeUndefined();
  expect(r.data!.analyzeStudy.gateVerdict).toBe('ACCEPTED');
  predictionId = r.data!.analyzeStudy.id;
  findings = r.data!.analyzeStudy.findings;
  ws = connectWs(t.app.url, { authorization: `Bearer ${radiologist}` });
  await ws.connected;
});
afterAll(async () => {
  await ws?.dispose();
  await t?.stop();
});

async function approve(token: string, id: string) {
  return t.gql<{ approveNote: NoteResult }>(
    token,
    `mutation($id: ID!) { approveNote(id: $id) { ${NOTE_FIELDS} } }`,
    {
      id,
    },
  );
}

async function auditRows(noteId: string) {
  return (await t.app.orm.em
    .fork()
    .getConnection()
    .execute(
      `select action, actor_role, patient_id from audit_event where entity_type = 'ClinicalNote' and entity_id = ? order by created_at`,
      [noteId],
    )) as { action: string; actor_role: string; patient_id: string }[];
}

describe('clinical notes, template backend', () => {
  it('streams a patient draft over graphql-ws and stores it with passing safety checks', async () => {
    const sub = subscribe<ChunkEvent>(ws.client, DRAFT_SUBSCRIPTION, { p: predictionId });
    // graphql-ws does not acknowledge subscriptions: draft until the stream is seen, then check the last draft.
    let note: NoteResult | null = null;
    for (let attempt = 0; attempt < 20 && !note; attempt++) {
      const r = await generateNote(t, radiologist, predictionId, 'PATIENT');
      expect(r.errors).toBeUndefined();
      const candidate = r.data!.generateNote;
      try {
        await sub.waitForEvent(
          (e) => e.noteDraftStreamed.noteId === candidate.id && e.noteDraftStreamed.done,
          500,
        );
        note = candidate;
      } catch {
        /* subscription not registered yet */
      }
    }
    expect(note).not.toBeNull();
    await waitForCompleteStream(sub, note!.id);
    const streamed = joinChunks(sub.events, note!.id);
    expect(streamed).toEqual({ text: note!.body, done: true, complete: true, error: null });
    expect(sub.events.filter((e) => e.noteDraftStreamed.noteId === note!.id).length).toBeGreaterThan(10);
    sub.stop();

    expect(note).toMatchObject({
      predictionId,
      audience: 'PATIENT',
      language: 'en',
      status: 'DRAFT',
      backend: 'template',
      releasable: true,
      failedChecks: [],
      approvedAt: null,
    });
    expect(note!.warning).toMatch(/AI assistance/);
    expect(note!.safetyChecks.readability.metric).toBe('FLESCH_KINCAID_GRADE');
    expect(note!.safetyChecks.readability.score).toBeLessThanOrEqual(8);
    expect(note!.body).toMatch(/radiologist must check/);
    for (const f of findings)
      expect(note!.body.toLowerCase()).toContain(f.label === 'TUBERCULOSIS' ? 'tb' : f.label.toLowerCase());
    expect(await auditRows(note!.id)).toEqual([
      { action: 'CREATE', actor_role: 'RADIOLOGIST', patient_id: patientId },
    ]);
  });

  it('writes Spanish patient notes and English clinician notes that pass their checks', async () => {
    const es = await generateNote(t, radiologist, predictionId, 'PATIENT', 'es');
    expect(es.errors).toBeUndefined();
    expect(es.data!.generateNote).toMatchObject({ language: 'es', releasable: true });
    expect(es.data!.generateNote.body).toContain('radiografía');
    expect(es.data!.generateNote.safetyChecks.readability.metric).toBe('SZIGRISZT_PAZOS');
    const clinician = await generateNote(t, radiologist, predictionId, 'CLINICIAN');
    expect(clinician.errors).toBeUndefined();
    expect(clinician.data!.generateNote).toMatchObject({ audience: 'CLINICIAN', releasable: true });
    expect(clinician.data!.generateNote.body).toMatch(/AI assistance, not a diagnosis/);
  });

  it('refuses an unsupported language, an unknown prediction and a malformed id, storing nothing', async () => {
    const count = async () =>
      Number(
        (await t.app.orm.em.fork().getConnection().execute('select count(*)::int as n from clinical_note'))[0]
          .n,
      );
    const before = await count();
    expect(codes((await generateNote(t, radiologist, predictionId, 'PATIENT', 'fr')).errors)).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(
      codes((await generateNote(t, radiologist, '00000000-0000-4000-8000-000000000000', 'PATIENT')).errors),
    ).toEqual(['NOT_FOUND']);
    expect(codes((await generateNote(t, radiologist, 'not-an-id', 'PATIENT')).errors)).toEqual(['NOT_FOUND']);
    expect(await count()).toBe(before);
  });

  it('refuses to draft from a SHADOW read (a candidate model no user was shown)', async () => {
    const shadow = await seedPrediction(
      t,
      tech,
      [{ label: 'PNEUMONIA', probability: 0.5, threshold: 0.05 }],
      'CHEST',
      'SHADOW',
    );
    const r = await generateNote(t, radiologist, shadow.predictionId, 'PATIENT');
    expect(codes(r.errors)).toEqual(['INVALID_STATE']);
  });

  it('shows integrators approved notes only, after a radiologist approves the draft', async () => {
    const draft = (await generateNote(t, radiologist, predictionId, 'PATIENT')).data!.generateNote;
    const listQuery = `query($p: ID!, $s: NoteStatus) { clinicalNotes(predictionId: $p, status: $s, first: 100) { edges { node { id status } } } }`;
    const ids = async (token: string, s?: string) =>
      (
        await t.gql<{ clinicalNotes: { edges: { node: { id: string; status: string } }[] } }>(
          token,
          listQuery,
          {
            p: predictionId,
            s,
          },
        )
      ).data!.clinicalNotes.edges.map((e) => e.node);
    const one = (token: string) =>
      t.gql<{ clinicalNote: NoteResult }>(
        token,
        `query($id: ID!) { clinicalNote(id: $id) { id status body } }`,
        {
          id: draft.id,
        },
      );

    expect((await ids(integrator)).map((n) => n.id)).not.toContain(draft.id);
    expect((await ids(integrator, 'DRAFT')).every((n) => n.status === 'APPROVED')).toBe(true);
    expect(codes((await one(integrator)).errors)).toEqual(['NOT_FOUND']);
    expect((await ids(radiologist, 'DRAFT')).map((n) => n.id)).toContain(draft.id);
    expect((await one(radiologist)).data!.clinicalNote.status).toBe('DRAFT');

    const approved = await approve(radiologist, draft.id);
    expect(approved.errors).toBeUndefined();
    expect(approved.data!.approveNote.status).toBe('APPROVED');
    expect(approved.data!.approveNote.approvedAt).not.toBeNull();

    expect((await ids(integrator)).map((n) => n.id)).toContain(draft.id);
    const reads = (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(
        `select actor_role, patient_id from audit_event where action = 'READ' and entity_type = 'ClinicalNote' and entity_id = ?`,
        [draft.id],
      )) as { actor_role: string; patient_id: string }[];
    expect(reads).toEqual(expect.arrayContaining([{ actor_role: 'INTEGRATOR', patient_id: patientId }]));
    expect((await one(integrator)).data!.clinicalNote).toMatchObject({
      id: draft.id,
      status: 'APPROVED',
      body: draft.body,
    });
    expect((await auditRows(draft.id)).map((r) => [r.action, r.actor_role])).toEqual(
      expect.arrayContaining([
        ['CREATE', 'RADIOLOGIST'],
        ['UPDATE', 'RADIOLOGIST'],
      ]),
    );

    expect(codes((await approve(radiologist, draft.id)).errors)).toEqual(['INVALID_STATE']);
    const reject = await t.gql(radiologist, 'mutation($id: ID!) { rejectNote(id: $id) { status } }', {
      id: draft.id,
    });
    expect(codes(reject.errors)).toEqual(['INVALID_STATE']);
  });

  it('rejects a draft for good: it cannot be approved afterwards and integrators never see it', async () => {
    const draft = (await generateNote(t, radiologist, predictionId, 'CLINICIAN')).data!.generateNote;
    const r = await t.gql<{ rejectNote: { status: string } }>(
      radiologist,
      'mutation($id: ID!) { rejectNote(id: $id) { status } }',
      {
        id: draft.id,
      },
    );
    expect(r.data!.rejectNote.status).toBe('REJECTED');
    expect(codes((await approve(radiologist, draft.id)).errors)).toEqual(['INVALID_STATE']);
    const seen = await t.gql(integrator, `query($id: ID!) { clinicalNote(id: $id) { id } }`, {
      id: draft.id,
    });
    expect(codes(seen.errors)).toEqual(['NOT_FOUND']);
  });

  it('lets exactly one of two concurrent approvals win', async () => {
    const draft = (await generateNote(t, radiologist, predictionId, 'PATIENT')).data!.generateNote;
    const other = await t.tokenFor(Role.RADIOLOGIST);
    const results = await Promise.all([approve(radiologist, draft.id), approve(other, draft.id)]);
    expect(results.map((r) => codes(r.errors)).sort()).toEqual([[], ['INVALID_STATE']]);
    expect((await auditRows(draft.id)).filter((r) => r.action === 'UPDATE')).toHaveLength(1);
  });
});
