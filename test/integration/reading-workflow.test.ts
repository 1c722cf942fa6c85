/**
 * The radiologist's read is the truth (issue 15, items 1–3): reading workflow states and who may move
 * them, the signed read and its amendments as records, corrections that reach notes (drafts and
 * approved notes that contradict them are invalidated, new drafts follow the radiologist), FHIR,
 * list filters and live quality, and the one unambiguous result field.
 */
import { Role } from '../../src/domain/enums';
import { NOTE_FIELDS, NoteResult } from '../support/note-fixtures';
import { NORMAL_TOP_PNEUMONIA_FLAGGED, seedReadStudy, TB_READING } from '../support/reading-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let t: TestApp;
let tech: string;
let radiologist: string;
let integrator: string;
let admin: string;

const codes = (errors?: { extensions?: { code?: string } }[]) =>
  (errors ?? []).map((e) => e.extensions?.code);

beforeAll(async () => {
  t = await startTestApp({ ANALYSIS_WORKERS: '0', RETRAIN_WORKERS: '0' });
  tech = await t.tokenFor(Role.TECHNICIAN);
  radiologist = await t.tokenFor(Role.RADIOLOGIST);
  integrator = await t.tokenFor(Role.INTEGRATOR);
  admin = await t.tokenFor(Role.ADMIN);
});
afterAll(async () => t?.stop());

const draft = (token: string, predictionId: string, audience = 'PATIENT') =>
  t.gql<{ generateNote: NoteResult & { source: string; statedFindings: string[] } }>(
    token,
    `mutation($p: ID!, $a: NoteAudience!) { generateNote(predictionId: $p, audience: $a) { ${NOTE_FIELDS} source statedFindings } }`,
    { p: predictionId, a: audience },
  );

const note = (token: string, id: string) =>
  t.gql<{
    clinicalNote: { status: string; invalidatedAt: string | null; invalidationReason: string | null };
  }>(token, 'query($id: ID!) { clinicalNote(id: $id) { status invalidatedAt invalidationReason } }', { id });

const fhir = async (predictionId: string, token = radiologist) => {
  const res = await fetch(`${t.app.url}/fhir/DiagnosticReport?_id=${predictionId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  const bundle = (await res.json()) as { entry: { resource: Record<string, any> }[] };
  return { bundle, report: bundle.entry[0]!.resource };
};

const sign = (studyId: string, tb: boolean, conclusion: string | null = null, token = radiologist) =>
  t.gql<{ signFinalRead: Record<string, any> }>(
    token,
    `mutation($i: SignFinalReadInput!) { signFinalRead(input: $i) {
       id version status label agreement conclusion predictionId radiologistId
       findings { label present aiFlagged agreesWithAi } } }`,
    {
      i: {
        studyId,
        findings: [
          { label: 'PNEUMONIA', present: false },
          { label: 'TUBERCULOSIS', present: tb },
        ],
        conclusion,
      },
    },
  );

const studyState = (studyId: string) =>
  t.gql<{ study: { status: string; finalRead: Record<string, any> | null } }>(
    radiologist,
    'query($id: ID!) { study(id: $id) { status finalRead { version status label agreement conclusion amendmentReason } } }',
    { id: studyId },
  );

describe('a correction after a note was drafted', () => {
  it('invalidates the approved TB note, drafts the next note from the correction, and FHIR follows', async () => {
    const { predictionId } = await seedReadStudy(t, tech, TB_READING);
    const first = await draft(radiologist, predictionId);
    expect(first.errors).toBeUndefined();
    expect(first.data!.generateNote).toMatchObject({ source: 'AI', statedFindings: ['TUBERCULOSIS'] });
    expect(first.data!.generateNote.body).toMatch(/tuberculosis/i);
    const approved = await t.gql(radiologist, 'mutation($id: ID!) { approveNote(id: $id) { status } }', {
      id: first.data!.generateNote.id,
    });
    expect(approved.errors).toBeUndefined();

    const corrected = await t.gql(
      radiologist,
      'mutation($p: ID!) { submitCorrection(input: {predictionId: $p, label: "NORMAL"}) { id label } }',
      { p: predictionId },
    );
    expect(corrected.errors).toBeUndefined();

    // The approved note says so, and the integrator (who may have published it) sees it retracted.
    const seen = await note(integrator, first.data!.generateNote.id);
    expect(seen.errors).toBeUndefined();
    expect(seen.data!.clinicalNote.status).toBe('INVALIDATED');
    expect(seen.data!.clinicalNote.invalidatedAt).not.toBeNull();
    expect(seen.data!.clinicalNote.invalidationReason).toMatch(/correction/i);
    // An invalidated note can no longer be approved.
    const again = await t.gql(radiologist, 'mutation($id: ID!) { approveNote(id: $id) { status } }', {
      id: first.data!.generateNote.id,
    });
    expect(codes(again.errors)).toEqual(['INVALID_STATE']);

    for (const audience of ['PATIENT', 'CLINICIAN']) {
      const next = await draft(radiologist, predictionId, audience);
      expect(next.errors).toBeUndefined();
      const n = next.data!.generateNote;
      expect(n).toMatchObject({
        source: 'RADIOLOGIST',
        statedFindings: [],
        releasable: true,
        failedChecks: [],
      });
      expect(n.body).not.toMatch(/tuberculosis|\bTB\b/i);
      expect(n.body).toMatch(/radiologist/i);
    }

    const { report } = await fhir(predictionId);
    expect(report.status).toBe('preliminary');
    expect(report.conclusion).toMatch(/^Radiologist correction: no finding \(NORMAL\)\./);
    expect(report.conclusionCode).toEqual([{ coding: [expect.objectContaining({ display: 'Normal' })] }]);
  });

  it('reads the review on the prediction', async () => {
    const { predictionId } = await seedReadStudy(t, tech, TB_READING);
    const before = await t.gql<{ prediction: { review: unknown } }>(
      radiologist,
      'query($id: ID!) { prediction(id: $id) { review { source } } }',
      { id: predictionId },
    );
    expect(before.data!.prediction.review).toBeNull();
    await t.gql(
      radiologist,
      'mutation($p: ID!) { submitCorrection(input: {predictionId: $p, label: "NORMAL"}) { id } }',
      {
        p: predictionId,
      },
    );
    const after = await t.gql<{ prediction: { review: Record<string, any> } }>(
      radiologist,
      'query($id: ID!) { prediction(id: $id) { review { source agreement label correctionId findings { label present aiFlagged agreesWithAi } } } }',
      { id: predictionId },
    );
    expect(after.errors).toBeUndefined();
    expect(after.data!.prediction.review).toMatchObject({
      source: 'CORRECTION',
      agreement: 'CORRECTED',
      label: 'NORMAL',
      findings: [
        { label: 'PNEUMONIA', present: false, aiFlagged: false, agreesWithAi: true },
        { label: 'TUBERCULOSIS', present: false, aiFlagged: true, agreesWithAi: false },
      ],
    });
  });
});

describe('the reading workflow', () => {
  it('moves ANALYZED → IN_REVIEW → FINAL → AMENDED, by radiologists only, and keeps the read as a record', async () => {
    const { studyId, predictionId } = await seedReadStudy(t, tech, TB_READING);
    const aiNote = await draft(radiologist, predictionId);
    expect(aiNote.errors).toBeUndefined();

    for (const token of [tech, integrator, admin]) {
      const refused = await t.gql(token, 'mutation($s: ID!) { startReview(studyId: $s) { status } }', {
        s: studyId,
      });
      expect(codes(refused.errors)).toEqual(['FORBIDDEN']);
      expect(codes((await sign(studyId, false, null, token)).errors)).toEqual(['FORBIDDEN']);
    }
    const opened = await t.gql<{ startReview: { status: string } }>(
      radiologist,
      'mutation($s: ID!) { startReview(studyId: $s) { status } }',
      { s: studyId },
    );
    expect(opened.errors).toBeUndefined();
    expect(opened.data!.startReview.status).toBe('IN_REVIEW');

    // Every finding must be stated.
    const partial = await t.gql(
      radiologist,
      'mutation($s: ID!) { signFinalRead(input: {studyId: $s, findings: [{label: "TUBERCULOSIS", present: false}]}) { id } }',
      { s: studyId },
    );
    expect(codes(partial.errors)).toEqual(['BAD_USER_INPUT']);
    expect((await studyState(studyId)).data!.study.status).toBe('IN_REVIEW');

    const signed = await sign(studyId, false, 'Clear lungs.');
    expect(signed.errors).toBeUndefined();
    expect(signed.data!.signFinalRead).toMatchObject({
      version: 1,
      status: 'FINAL',
      label: 'NORMAL',
      agreement: 'CORRECTED',
      conclusion: 'Clear lungs.',
      predictionId,
      findings: [
        { label: 'PNEUMONIA', present: false, aiFlagged: false, agreesWithAi: true },
        { label: 'TUBERCULOSIS', present: false, aiFlagged: true, agreesWithAi: false },
      ],
    });
    // The AI-drafted TB note is invalidated by the read.
    expect((await note(radiologist, aiNote.data!.generateNote.id)).data!.clinicalNote.status).toBe(
      'INVALIDATED',
    );

    let state = await studyState(studyId);
    expect(state.errors).toBeUndefined();
    expect(state.data!.study).toMatchObject({ status: 'FINAL', finalRead: { version: 1, label: 'NORMAL' } });
    const first = await fhir(predictionId);
    let report = first.report;
    const bundle = first.bundle;
    expect(report.status).toBe('final');
    expect(report.conclusion).toMatch(
      /^Radiologist's read \(final\): no finding \(NORMAL\)\. Clear lungs\. AI second reading:/,
    );
    const readObs = bundle.entry
      .map((e) => e.resource)
      .filter((r) => r.resourceType === 'Observation' && /-r\d$/.test(r.id));
    expect(readObs.map((o) => [o.code.text, o.valueBoolean, o.status])).toEqual([
      ['Radiologist read: PNEUMONIA', false, 'final'],
      ['Radiologist read: TUBERCULOSIS', false, 'final'],
    ]);

    // After signing, corrections go through an amendment.
    const late = await t.gql(
      radiologist,
      'mutation($p: ID!) { submitCorrection(input: {predictionId: $p, label: "PNEUMONIA"}) { id } }',
      { p: predictionId },
    );
    expect(codes(late.errors)).toEqual(['INVALID_STATE']);
    expect(codes((await sign(studyId, true)).errors)).toEqual(['INVALID_STATE']);
    const noReason = await t.gql(
      radiologist,
      'mutation($s: ID!) { amendFinalRead(input: {studyId: $s, reason: "", findings: [{label: "PNEUMONIA", present: false}, {label: "TUBERCULOSIS", present: true}]}) { id } }',
      { s: studyId },
    );
    expect(codes(noReason.errors)).toEqual(['BAD_USER_INPUT']);
    const amended = await t.gql<{ amendFinalRead: Record<string, any> }>(
      radiologist,
      'mutation($s: ID!) { amendFinalRead(input: {studyId: $s, reason: "Apical opacity on second look", findings: [{label: "PNEUMONIA", present: false}, {label: "TUBERCULOSIS", present: true}]}) { version status label agreement amendmentReason } }',
      { s: studyId },
    );
    expect(amended.errors).toBeUndefined();
    expect(amended.data!.amendFinalRead).toMatchObject({
      version: 2,
      status: 'AMENDED',
      label: 'TUBERCULOSIS',
      agreement: 'AGREED',
      amendmentReason: 'Apical opacity on second look',
    });
    state = await studyState(studyId);
    expect(state.data!.study).toMatchObject({
      status: 'AMENDED',
      finalRead: { version: 2, label: 'TUBERCULOSIS' },
    });
    ({ report } = await fhir(predictionId));
    expect(report.status).toBe('amended');
    expect(report.conclusion).toMatch(/^Radiologist's read \(amended\): TUBERCULOSIS\./);

    // Every step is audited.
    const audit = (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(
        `select entity_type, action, operation from audit_event where (entity_id = ? or entity_type = 'StudyRead') and action <> 'READ' and patient_id = (select patient_id from study where id = ?) order by created_at`,
        [studyId, studyId],
      )) as { entity_type: string; action: string; operation: string }[];
    const ops = audit.map((a) => `${a.entity_type} ${a.action} ${a.operation}`);
    expect(ops).toEqual(
      expect.arrayContaining([
        'Study UPDATE mutation startReview',
        'StudyRead CREATE mutation signFinalRead',
        'Study UPDATE mutation signFinalRead',
        'StudyRead CREATE mutation amendFinalRead',
        'Study UPDATE mutation amendFinalRead',
      ]),
    );
  });

  it('counts agreement: every signed read of an AI reading is a correction the quality figures see', async () => {
    const { studyId, predictionId } = await seedReadStudy(t, tech, TB_READING);
    expect((await sign(studyId, true)).errors).toBeUndefined();
    const corrections = await t.gql<{
      corrections: { edges: { node: { label: string; predictedLabel: string } }[] };
    }>(
      radiologist,
      'query($p: ID!) { corrections(predictionId: $p) { edges { node { label predictedLabel } } } }',
      { p: predictionId },
    );
    expect(corrections.data!.corrections.edges.map((e) => e.node)).toEqual([
      { label: 'TUBERCULOSIS', predictedLabel: 'TUBERCULOSIS' },
    ]);
    const now = Date.now();
    const q = await t.gql<{ correctionQuality: { n: number; agreement: number | null }[] }>(
      radiologist,
      'query($f: DateTimeISO!, $to: DateTimeISO!) { correctionQuality(input: {from: $f, to: $to, bucketSeconds: 86400, task: CHEST}) { n agreement } }',
      { f: new Date(now - 86400e3).toISOString(), to: new Date(now + 86400e3).toISOString() },
    );
    expect(q.errors).toBeUndefined();
    const agreed = q.data!.correctionQuality.reduce((a, w) => a + Math.round((w.agreement ?? 0) * w.n), 0);
    expect(agreed).toBeGreaterThanOrEqual(1);
  });
});

describe('list filters by final read and by AI', () => {
  it('finds a TB-flagged study corrected to NORMAL by its final read, and by its AI label apart', async () => {
    const { studyId } = await seedReadStudy(t, tech, TB_READING);
    expect((await sign(studyId, false)).errors).toBeUndefined();
    const ids = async (filter: Record<string, string>) => {
      const r = await t.gql<{ studies: { edges: { node: { id: string } }[] } }>(
        radiologist,
        'query($f: StudyFilter) { studies(first: 100, filter: $f) { edges { node { id } } } }',
        { f: filter },
      );
      expect(r.errors).toBeUndefined();
      return r.data!.studies.edges.map((e) => e.node.id);
    };
    expect(await ids({ finalLabel: 'NORMAL' })).toContain(studyId);
    expect(await ids({ finalLabel: 'TUBERCULOSIS' })).not.toContain(studyId);
    expect(await ids({ finalFinding: 'TUBERCULOSIS' })).not.toContain(studyId);
    expect(await ids({ label: 'TUBERCULOSIS' })).toContain(studyId);
    expect(await ids({ aiFinding: 'TUBERCULOSIS' })).toContain(studyId);
    expect(await ids({ aiFinding: 'PNEUMONIA' })).not.toContain(studyId);
  });
});

describe('one unambiguous result field', () => {
  it('answers FLAGGED_FOR_REVIEW when a finding reached its operating point while the top class is NORMAL', async () => {
    const { predictionId } = await seedReadStudy(t, tech, NORMAL_TOP_PNEUMONIA_FLAGGED);
    const r = await t.gql<{ prediction: Record<string, any> }>(
      integrator,
      'query($id: ID!) { prediction(id: $id) { outcome flagged label findings { label } assessments { label probability threshold flagged } } }',
      { id: predictionId },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.prediction).toEqual({
      outcome: 'FLAGGED_FOR_REVIEW',
      flagged: true,
      label: 'NORMAL',
      findings: [{ label: 'PNEUMONIA' }],
      assessments: [
        { label: 'PNEUMONIA', probability: 0.3, threshold: 0.05, flagged: true },
        { label: 'TUBERCULOSIS', probability: 0.08, threshold: 0.2, flagged: false },
      ],
    });
  });
});
