/**
 * Predictions are reproducible and idempotent (issue 15, item 5): a reading records which images it
 * read (ids and hashes) and the operating points it used; analysing an unchanged study returns the
 * reading it has, a re-read is asked for and links to the earlier one, and a batch job counts each
 * study once whatever its queue does (a redelivered study changes nothing and announces nothing).
 */
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Role } from '../../src/domain/enums';
import { AnalysisJobRepository } from '../../src/domain/analysis/analysis-job.repository';
import { Topic } from '../../src/domain/shared/events';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { fixtureFile } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const FIRST = 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg';
const SECOND = 'chest/kermany/test/NORMAL/IM-0003-0001.jpeg';
const THIRD = 'chest/kermany/test/NORMAL/IM-0005-0001.jpeg';
const FIELDS =
  'id rereadOfId inputs { imageId sha256 view } assessments { label threshold flagged } flagged outcome';

interface Reading {
  id: string;
  rereadOfId: string | null;
  inputs: { imageId: string; sha256: string; view: string }[];
  assessments: { label: string; threshold: number; flagged: boolean }[];
  flagged: boolean;
  outcome: string;
}

const ready = requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained models under models/');
let t: TestApp;
let tech: string;
let radiologist: string;
let patientId: string;

beforeAll(async () => {
  if (!ready) return;
  t = await startTestApp({ ANALYSIS_WORKERS: '0', RETRAIN_WORKERS: '0' });
  tech = await t.tokenFor(Role.TECHNICIAN);
  radiologist = await t.tokenFor(Role.RADIOLOGIST);
  patientId = await createPatient(t, tech);
});
afterAll(async () => t?.stop());

const analyze = async (studyId: string, reread = false) => {
  const r = await t.gql<{ analyzeStudy: Reading }>(
    radiologist,
    `mutation($s: ID!, $r: Boolean!) { analyzeStudy(studyId: $s, reread: $r) { ${FIELDS} } }`,
    { s: studyId, r: reread },
  );
  expect(r.errors).toBeUndefined();
  return r.data!.analyzeStudy;
};
const predictionCount = async (studyId: string) =>
  Number(
    (
      (await t.app.orm.em
        .fork()
        .getConnection()
        .execute('select count(*)::int as n from prediction where study_id = ?', [studyId])) as {
        n: number;
      }[]
    )[0]!.n,
  );
const sha = (file: string) => createHash('sha256').update(fixtureFile(file)).digest('hex');

/** Captures the job service's `analysisJobUpdated` payloads instead of publishing them; restore when done. */
function captureJobEvents(t: TestApp) {
  const events: Record<string, unknown>[] = [];
  const published = jest.spyOn(
    (t.app.jobs as unknown as { events: { publish: (topic: string, p: Record<string, unknown>) => void } })
      .events,
    'publish',
  );
  published.mockImplementation((topic, payload) => {
    if (topic === Topic.ANALYSIS_JOB_UPDATED) events.push(payload);
  });
  return { events, published };
}

describe('reproducible, idempotent predictions', () => {
  it('records the film it read among two PA films, and the operating points it used', async () => {
    if (!ready) return;
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, FIRST, 'PA');
    const retake = await attach(t, tech, studyId, SECOND, 'PA');
    const p = await analyze(studyId);
    // The newest PA film (a film attached again is a retake), by id and by content hash.
    expect(p.inputs).toEqual([{ imageId: retake, sha256: sha(SECOND), view: 'PA' }]);
    expect(p.assessments.map((a) => a.label).sort()).toEqual(['PNEUMONIA', 'TUBERCULOSIS']);
    for (const a of p.assessments) expect(a.threshold).toBeGreaterThan(0);
    expect(p.flagged).toBe(p.assessments.some((a) => a.flagged));
    expect(p.outcome).toBe(p.flagged ? 'FLAGGED_FOR_REVIEW' : 'NOTHING_FLAGGED');
    expect(p.rereadOfId).toBeNull();
  });

  it('returns the existing reading of an unchanged study, re-reads on request, and reads a changed study anew', async () => {
    if (!ready) return;
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, FIRST, 'PA');
    const first = await analyze(studyId);
    const again = await analyze(studyId);
    expect(again.id).toBe(first.id);
    expect(await predictionCount(studyId)).toBe(1);

    const reread = await analyze(studyId, true);
    expect(reread.id).not.toBe(first.id);
    expect(reread.rereadOfId).toBe(first.id);
    expect(reread.inputs).toEqual(first.inputs);
    expect(await predictionCount(studyId)).toBe(2);

    const retake = await attach(t, tech, studyId, THIRD, 'PA');
    const changed = await analyze(studyId);
    expect(changed.rereadOfId).toBe(reread.id);
    expect(changed.inputs.map((i) => i.imageId)).toEqual([retake]);
    expect(await analyze(studyId)).toMatchObject({ id: changed.id });
  });

  it('counts a study of a batch job once and announces nothing when the queue delivers it again', async () => {
    if (!ready) return;
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, FIRST, 'PA');
    const existing = await analyze(studyId);
    const submitted = await t.gql<{ submitStudies: { id: string } }>(
      tech,
      'mutation($ids: [ID!]!) { submitStudies(studyIds: $ids) { id } }',
      { ids: [studyId] },
    );
    expect(submitted.errors).toBeUndefined();
    const jobId = submitted.data!.submitStudies.id;
    const delivery = {
      id: 'redelivered',
      data: { analysisJobId: jobId, studyId },
      retryCount: 0,
      retryLimit: 2,
    };
    const { events, published } = captureJobEvents(t);
    try {
      await t.app.jobs.handle(delivery);
      expect(events).toEqual([
        expect.objectContaining({
          analysisJobId: jobId,
          status: 'COMPLETED',
          completed: 1,
          lastPredictionId: existing.id,
        }),
      ]);
      // The same delivery again (its completion was lost): nothing counted, nothing re-announced.
      await t.app.jobs.handle(delivery);
      expect(events).toHaveLength(1);
    } finally {
      published.mockRestore();
    }
    const job = await t.gql<{
      analysisJob: {
        status: string;
        completed: number;
        results: { studyId: string; predictionId: string }[];
      };
    }>(
      tech,
      'query($id: ID!) { analysisJob(id: $id) { status completed results { studyId predictionId } } }',
      { id: jobId },
    );
    expect(job.data!.analysisJob).toEqual({
      status: 'COMPLETED',
      completed: 1,
      results: [{ studyId, predictionId: existing.id }],
    });
    expect(await predictionCount(studyId)).toBe(1);
  });

  it('finishes a job whose last study was counted when the database went away before the job was finished', async () => {
    if (!ready) return;
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, FIRST, 'PA');
    const submitted = await t.gql<{ submitStudies: { id: string } }>(
      tech,
      'mutation($ids: [ID!]!) { submitStudies(studyIds: $ids) { id } }',
      { ids: [studyId] },
    );
    const jobId = submitted.data!.submitStudies.id;
    const delivery = { id: 'outage', data: { analysisJobId: jobId, studyId }, retryCount: 0, retryLimit: 2 };
    const status = async () =>
      (
        await t.gql<{ analysisJob: { status: string; completed: number } }>(
          tech,
          'query($id: ID!) { analysisJob(id: $id) { status completed } }',
          { id: jobId },
        )
      ).data!.analysisJob;
    const { events, published } = captureJobEvents(t);
    // The study commits, then the statement that would finish the job fails (the database is gone).
    const finish = jest
      .spyOn(AnalysisJobRepository.prototype, 'finishIfDone')
      .mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
    try {
      await expect(t.app.jobs.handle(delivery)).rejects.toThrow(/Connection terminated/);
      expect(await status()).toMatchObject({ completed: 1, status: 'RUNNING' });
      expect(events).toEqual([]);
      // The queue delivers the study again: it is counted already, and the job is finished now, once.
      await t.app.jobs.handle({ ...delivery, retryCount: 1 });
      expect(await status()).toEqual({ completed: 1, status: 'COMPLETED' });
      expect(events).toEqual([
        expect.objectContaining({ analysisJobId: jobId, status: 'COMPLETED', completed: 1 }),
      ]);
      await t.app.jobs.handle({ ...delivery, retryCount: 2 });
      expect(events).toHaveLength(1);
    } finally {
      finish.mockRestore();
      published.mockRestore();
    }
    expect(await predictionCount(studyId)).toBe(1);
  });
});
