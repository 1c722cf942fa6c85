/**
 * The front-end path (POST /uploads, attachImage, analyzeStudy) in statements, counted from MikroORM's
 * query log: the upload is one statement, the attach one read and one write, the analysis one read and
 * one write. Each write is one statement of data-modifying CTEs that carries its audit rows, so an
 * action that committed always has its audit row, and a write that fails leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { ReferenceKind, type EntityManager } from '@mikro-orm/postgresql';
import { AuditEvent } from '../../src/domain/audit/audit-event.entity';
import { DriftSample } from '../../src/domain/drift/drift-sample.entity';
import { AuditAction, ImageFormat, Role, StudyStatus } from '../../src/domain/enums';
import { Image } from '../../src/domain/image/image.entity';
import { Prediction } from '../../src/domain/prediction/prediction.entity';
import { Study } from '../../src/domain/study/study.entity';
import { flushAsOneStatement } from '../../src/domain/shared/flush-as-one-statement';
import { Upload } from '../../src/domain/upload/upload.entity';
import { createPatient, createStudy } from '../support/clinical-fixtures';
import { datasetFile } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { QueryRecorder } from '../support/query-recorder';
import { requireOrSkip } from '../support/test-database';

const FILM = 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg';

describe('front-end path round trips', () => {
  const ready = requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained chest model under models/');
  let t: TestApp;
  let tech: string;
  const queries = new QueryRecorder();

  beforeAll(async () => {
    if (!ready) return;
    t = await startTestApp({ MODEL_RECONCILE_INTERVAL_MS: '0' }, { onQuery: queries.onQuery });
    tech = await t.tokenFor(Role.TECHNICIAN);
  });
  afterAll(async () => t?.stop());

  // The caller's user is read when the principal cache has expired (a slow run): not the request's own work.
  const recorded = <T>(run: () => Promise<T>) => queries.record(run, (s) => !/ from "app_user" /.test(s));

  const upload = async () => {
    const res = await fetch(`${t.app.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${tech}` },
      body: datasetFile(FILM),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { uploadId: string }).uploadId;
  };

  /** A staged upload of a 1×1 PNG in `em` (not flushed), with the given hash and key. */
  const stagedUpload = (em: EntityManager, sha256: string, objectKey: string) =>
    em.create(Upload, {
      sha256,
      objectKey,
      format: ImageFormat.PNG,
      sizeBytes: 1,
      metadata: {
        width: 1,
        height: 1,
        bitsStored: 8,
        photometric: 'MONOCHROME2',
        transferSyntaxUid: null,
        dicom: null,
      },
    } as Upload);

  const write = (s: string) => /^with "w0" as \((insert|update)/.test(s);
  const auditRows = async (entityType: string, entityId: string) =>
    (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(`select action from audit_event where entity_type = ? and entity_id = ?`, [
        entityType,
        entityId,
      ])) as { action: string }[];

  it('sends one statement per upload, two per attach and two per analysis, audit rows included', async () => {
    if (!ready) return;
    const patientId = await createPatient(t, tech);
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    const up = await recorded(upload);
    expect(up.statements).toHaveLength(1);
    expect(up.statements[0]).toMatch(/insert into "upload".*insert into "audit_event"/);
    expect(await auditRows('Upload', up.result)).toEqual([{ action: AuditAction.UPLOAD }]);

    const at = await recorded(() =>
      t.gql<{ attachImage: { id: string } }>(
        tech,
        'mutation($i: AttachImageInput!) { attachImage(input: $i) { id view } }',
        { i: { studyId, uploadId: up.result, view: 'PA' } },
      ),
    );
    expect(at.result.errors).toBeUndefined();
    // One read (the upload, the study and its patient), then one write.
    expect(at.statements).toHaveLength(2);
    expect(at.statements[0]).toMatch(/^select .*from upload u.*from study s/);
    expect(write(at.statements[1]!)).toBe(true);
    for (const part of [
      /insert into "image"/,
      /insert into "audit_event"/,
      /update "upload" set "attached_at"/,
      /update "study" set "status"/,
      // STUDY_CHANGED travels in the write: no statement of its own after the commit.
      /pg_notify/,
    ])
      expect(at.statements[1]).toMatch(part);
    const imageId = at.result.data!.attachImage.id;
    expect(await auditRows('Image', imageId)).toEqual([{ action: AuditAction.CREATE }]);

    const an = await recorded(() =>
      t.gql(tech, 'mutation($s: ID!) { analyzeStudy(studyId: $s) { id } }', { s: studyId }),
    );
    expect(an.result.errors).toBeUndefined();
    expect(an.statements.filter((s) => !/drift_sample|drift_check/.test(s) || write(s))).toHaveLength(2);
    expect(an.statements.find(write)).toMatch(/insert into "prediction".*pg_notify/);
    // The attach is done: the same upload a second time is refused.
    const again = await t.gql(tech, 'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }', {
      i: { studyId, uploadId: up.result, view: 'PA' },
    });
    expect(again.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
  });

  it('keeps one of two attaches of one upload sent at the same moment, with one image and one audit row', async () => {
    if (!ready) return;
    const patientId = await createPatient(t, tech);
    const studyIds = await Promise.all([0, 1].map(() => createStudy(t, tech, patientId, 'CHEST')));
    const uploadId = await upload();
    const attach = (studyId: string) =>
      t.gql(tech, 'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }', {
        i: { studyId, uploadId, view: 'PA' },
      });
    const answers = await Promise.all(studyIds.map(attach));
    const codes = answers.map((a) => a.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(codes).toEqual(['INVALID_STATE', 'OK']);
    const images = (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(`select id from image where upload_id = ?`, [uploadId])) as { id: string }[];
    expect(images).toHaveLength(1);
    expect(await auditRows('Image', images[0]!.id)).toEqual([{ action: AuditAction.CREATE }]);
  });

  it('stores every column as a flush stores it: JSON, bytea, doubles, dates, references, nulls and updates', async () => {
    if (!ready) return;
    const patientId = await createPatient(t, tech);
    const studyIds = await Promise.all([0, 1, 2].map(() => createStudy(t, tech, patientId, 'CHEST')));
    const at = await t.gql<{ attachImage: { id: string } }>(
      tech,
      'mutation($i: AttachImageInput!) { attachImage(input: $i) { id } }',
      { i: { studyId: studyIds[0], uploadId: await upload(), view: 'PA' } },
    );
    const an = await t.gql<{ analyzeStudy: { id: string } }>(
      tech,
      'mutation($s: ID!) { analyzeStudy(studyId: $s) { id } }',
      { s: studyIds[0] },
    );
    expect(an.errors).toBeUndefined();
    const source = t.app.orm.em.fork();
    const prediction = await source.findOneOrFail(Prediction, an.data!.analyzeStudy.id);
    const sample = await source.findOneOrFail(DriftSample, { prediction });
    const image = await source.findOneOrFail(Image, at.data!.attachImage.id);
    expect(sample.embedding.length).toBeGreaterThan(0);

    /** A new entity with every own column of `from` (references by key), and `set` over them. */
    const copyOf = <T extends object>(
      em: EntityManager,
      name: string,
      from: T,
      set: Record<string, unknown>,
    ) => {
      const data: Record<string, unknown> = {};
      for (const prop of em.getMetadata().find(name)!.props) {
        if (prop.name === 'id' || prop.persist === false) continue;
        const value = (from as Record<string, unknown>)[prop.name];
        if (prop.kind === ReferenceKind.SCALAR) data[prop.name] = value;
        else if (
          prop.kind === ReferenceKind.MANY_TO_ONE ||
          (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner)
        )
          data[prop.name] = value ? em.getReference(prop.type, (value as { id: string }).id) : value;
      }
      return em.create(name, { ...data, ...set } as never) as T;
    };
    const written = async (write: (em: EntityManager) => Promise<unknown>) => {
      const em = t.app.orm.em.fork();
      const p = copyOf(em, 'Prediction', prediction, {
        siteOperatingPoint: null,
        explanation: 'an "explained" reading?',
      });
      const d = copyOf(em, 'DriftSample', sample, { prediction: p });
      const i = copyOf(em, 'Image', image, {
        uploadId: null,
        intakeOverride: { accept: ['VIEW'], reason: 'it\'s a "quoted" reason?' },
      });
      const a = em.create(AuditEvent, {
        action: AuditAction.CREATE,
        entityType: 'Image',
        entityId: "an 'image'?",
        patientId,
      } as AuditEvent);
      await write(em);
      return { p: p.id, d: d.id, i: i.id, a: a.id };
    };
    const byFlush = await written((em) => em.flush());
    const byStatement = await written(flushAsOneStatement);
    const row = async (table: string, id: string) =>
      (
        (await t.app.orm.em
          .fork()
          .getConnection()
          .execute(
            `select to_jsonb(x) - 'id' - 'created_at' - 'prediction_id' as r from ${table} x where id = ?`,
            [id],
          )) as {
          r: Record<string, unknown>;
        }[]
      )[0]!.r;
    for (const [table, key] of [
      ['prediction', 'p'],
      ['drift_sample', 'd'],
      ['image', 'i'],
      ['audit_event', 'a'],
    ] as const) {
      const expected = await row(table, byFlush[key]);
      expect(await row(table, byStatement[key])).toEqual(expected);
    }
    // Dates and the bytea column, exactly.
    const stored = t.app.orm.em.fork();
    const [d1, d2] = await Promise.all(
      [byFlush.d, byStatement.d].map((id) => stored.findOneOrFail(DriftSample, id)),
    );
    expect(d2!.embedding.equals(d1!.embedding)).toBe(true);
    expect(d2!.confidence).toBe(sample.confidence);

    // An update: the changed columns only, by key.
    const updated = async (studyId: string, write: (em: EntityManager) => Promise<unknown>) => {
      const em = t.app.orm.em.fork();
      const study = await em.findOneOrFail(Study, studyId);
      study.status = StudyStatus.FAILED;
      study.description = "a 'changed' description";
      await write(em);
    };
    await updated(studyIds[1]!, (em) => em.flush());
    await updated(studyIds[2]!, flushAsOneStatement);
    const studies = await t.app.orm.em
      .fork()
      .getConnection()
      .execute(`select status, description, updated_at > created_at as later from study where id in (?, ?)`, [
        studyIds[1],
        studyIds[2],
      ]);
    expect(studies).toEqual([
      { status: 'FAILED', description: "a 'changed' description", later: true },
      { status: 'FAILED', description: "a 'changed' description", later: true },
    ]);
  });

  it('hands a unit of work it does not cover (a removal) to em.flush, which writes all of it', async () => {
    if (!ready) return;
    const em = t.app.orm.em.fork();
    const upload = stagedUpload(em, 'b'.repeat(64), 'images/fallback');
    await flushAsOneStatement(em);
    em.remove(upload);
    const audit = em.create(AuditEvent, {
      action: AuditAction.UPLOAD,
      entityType: 'Upload',
      entityId: upload.id,
    } as AuditEvent);
    const { statements } = await queries.record(() => flushAsOneStatement(em));
    expect(statements.some((s) => /^delete from "upload"/.test(s))).toBe(true);
    expect(statements.some(write)).toBe(false);
    const left = await t.app.orm.em
      .fork()
      .getConnection()
      .execute(
        `select (select count(*)::int from upload where id = ?) as uploads, (select count(*)::int from audit_event where id = ?) as audits`,
        [upload.id, audit.id],
      );
    expect(left).toEqual([{ uploads: 0, audits: 1 }]);
  });

  it('writes nothing of a one-statement flush when one of its parts fails', async () => {
    if (!ready) return;
    const em = t.app.orm.em.fork();
    const audit = em.create(AuditEvent, {
      action: AuditAction.UPLOAD,
      entityType: 'Upload',
      entityId: 'half-written',
    } as AuditEvent);
    // sha256 is char(64): 65 characters fail the upload's INSERT, after the audit row's CTE.
    stagedUpload(em, 'x'.repeat(65), 'images/none');
    await expect(flushAsOneStatement(em)).rejects.toThrow();
    expect(await auditRows('Upload', 'half-written')).toEqual([]);
    expect(audit.entityId).toBe('half-written');
  });

  it('sends the events a write carries with it: delivered once it commits, never when it fails', async () => {
    if (!ready) return;
    const listener = new Client({ connectionString: t.app.config.database.url! });
    await listener.connect();
    const heard: string[] = [];
    // This test's events only (the app publishes its own on the same channel).
    listener.on('notification', (m) => {
      if (m.payload?.includes('"TEST_EVENT"')) heard.push(m.payload);
    });
    await listener.query('LISTEN care_companion_events');
    try {
      const event = (tag: string) => ({
        channel: 'care_companion_events',
        payload: JSON.stringify({ type: 'TEST_EVENT', detail: { tag } }),
      });
      const failing = t.app.orm.em.fork();
      stagedUpload(failing, 'x'.repeat(65), 'images/none');
      await expect(flushAsOneStatement(failing, [event('failed')])).rejects.toThrow();
      const em = t.app.orm.em.fork();
      const sha = randomBytes(32).toString('hex');
      stagedUpload(em, sha, `images/${sha}.png`);
      await expect(flushAsOneStatement(em, [event('first'), event('second')])).resolves.toBe(true);
      // The two in order; a later round trip on the listener's connection has read everything before it.
      for (let i = 0; i < 50 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      await listener.query('select 1');
      expect(heard.map((p) => (JSON.parse(p) as { detail: { tag: string } }).detail.tag)).toEqual([
        'first',
        'second',
      ]);
      // A unit of work it does not cover goes through em.flush: the caller publishes after it.
      const removal = t.app.orm.em.fork();
      removal.remove(await removal.findOneOrFail(Upload, { sha256: sha }));
      await expect(flushAsOneStatement(removal, [event('removal')])).resolves.toBe(false);
      await listener.query('select 1');
      expect(heard).toHaveLength(2);
    } finally {
      await listener.end();
    }
  });
});
