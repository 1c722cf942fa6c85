/**
 * An analysis reads what it needs before the model in one statement (study, images, last reading,
 * routing, the site's rollout gates and operating points) and writes its reading with
 * no read after the write: one statement whose CTEs insert the reading, its drift sample and
 * audit row and update the study (atomic without BEGIN and COMMIT).
 */
import { existsSync } from 'node:fs';
import { Role } from '../../src/domain/enums';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { QueryRecorder } from '../support/query-recorder';
import { requireOrSkip } from '../support/test-database';

describe('analysis round trips', () => {
  const ready = requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained chest model under models/');
  let t: TestApp;
  let tech: string;
  let studyId: string;
  const queries = new QueryRecorder();

  beforeAll(async () => {
    if (!ready) return;
    t = await startTestApp({ MODEL_RECONCILE_INTERVAL_MS: '0' }, { onQuery: queries.onQuery });
    tech = await t.tokenFor(Role.TECHNICIAN);
    const patientId = await createPatient(t, tech);
    studyId = await createStudy(t, tech, patientId, 'CHEST');
    await attach(t, tech, studyId, 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg', 'PA');
  });
  afterAll(async () => t?.stop());

  async function statementsOfAnalysis(reread: boolean): Promise<string[]> {
    const { result: r, statements } = await queries.record(() =>
      t.gql<{ analyzeStudy: { id: string; route: string } }>(
        tech,
        'mutation($s: ID!, $r: Boolean) { analyzeStudy(studyId: $s, reread: $r) { id route gateVerdict } }',
        { s: studyId, r: reread },
      ),
    );
    expect(r.errors).toBeUndefined();
    return statements;
  }

  it('reads the study, its images, last reading and routing in one statement, then writes in one statement', async () => {
    if (!ready) return;
    await statementsOfAnalysis(false);
    const statements = await statementsOfAnalysis(true);
    // The token's user, then the analysis's one read.
    const analysisReads = statements.filter((s) => s.startsWith('with s as'));
    expect(analysisReads).toHaveLength(1);
    expect(analysisReads[0]).toMatch(/from study where id/);
    // No BEGIN and COMMIT: the writes are the CTEs of one statement, atomic by themselves.
    expect(statements.filter((s) => /^(begin|commit)/.test(s))).toEqual([]);
    const writes = statements.filter((s) => /^with "w0" as \((insert|update)/.test(s));
    expect(writes).toHaveLength(1);
    const write = writes[0]!;
    expect(write.match(/insert into "prediction"/g)).toHaveLength(1);
    // The audit row commits with the reading: a process killed after the commit cannot lose it.
    expect(write.match(/insert into "audit_event"/g)).toHaveLength(1);
    expect(write).toMatch(/insert into "drift_sample"/);
    // No read after the write: the answer is built from what the analysis holds (drift bookkeeping,
    // after the answer, reads only its own tables).
    const after = statements.slice(statements.indexOf(write) + 1).filter((s) => s.startsWith('select'));
    expect(after.filter((s) => /\b(study|image|prediction|model_version)\b/.test(s))).toEqual([]);
    expect(statements.indexOf(write)).toBeGreaterThan(statements.indexOf(analysisReads[0]!));
  });

  it('audits the analysis in its own transaction, under the caller and the operation', async () => {
    if (!ready) return;
    await statementsOfAnalysis(true);
    const rows = (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(
        `select action, actor_role, operation, patient_id is not null as has_patient from audit_event
          where entity_type = 'Study' and entity_id = ? and action = 'ANALYZE'`,
        [studyId],
      )) as { action: string; actor_role: string; operation: string; has_patient: boolean }[];
    // Three analyses so far (the first, the re-read of the first test, this one).
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({
      action: 'ANALYZE',
      actor_role: 'TECHNICIAN',
      operation: 'mutation analyzeStudy',
      has_patient: true,
    });
  });
});
