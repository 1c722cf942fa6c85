import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as dicomParser from 'dicom-parser';
import sharp from 'sharp';
import { Correction } from '../../src/domain/correction/correction.entity';
import { Role } from '../../src/domain/enums';
import { readCsvRecords } from '../../src/training/csv';
import { attach, createPatient, createStudy } from '../support/clinical-fixtures';
import { fixtureFile, fixturePath } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';
import { shippedVersion } from '../support/model-repository';

const run = promisify(execFile);
const SOURCE_DICOM = 'dicom/real_radiographs/CR_chest_MONO1_j2k_lossy_RG1_J2KI.dcm';
/** PHI put into (or already in) the source file; none of it may survive in the copy. */
const PHI = ['DOE^JANE', 'DOE', 'JANE', 'MRN778899', '19610412', 'St Example Hospital', 'ACMEPRIV', '26210'];

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A PNG with a tEXt chunk naming a patient (what a careless export tool writes). */
function pngWithTextChunk(png: Buffer, text: string): Buffer {
  const data = Buffer.from(`Comment\0${text}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'ascii');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), chunk, png.subarray(iend)]);
}

describe('corrections: de-identified copies in the retraining area, manifest, live quality', () => {
  const ready =
    requireOrSkip(
      existsSync('/usr/bin/dcmodify') && existsSync('/usr/bin/dcmdump'),
      'dcmtk (dcmodify, dcmdump)',
    ) && requireOrSkip(existsSync('models/chest/v1/model.onnx'), 'trained models under models/');
  let t: TestApp;
  let tech: string;
  let radiologist: string;
  let admin: string;
  let work: string;
  let phiDicom: Buffer;
  let sourceUids: string[];

  beforeAll(async () => {
    if (!ready) return;
    work = mkdtempSync(join(tmpdir(), 'cc-corr-'));
    const file = join(work, 'phi.dcm');
    copyFileSync(fixturePath(SOURCE_DICOM), file);
    // dcmodify reports the (unrelated) odd-length private value it leaves as UN; the file is written.
    await run('dcmodify', [
      '-nb',
      '-ie',
      '-i',
      '(0010,0010)=DOE^JANE',
      '-i',
      '(0010,0020)=MRN778899',
      '-i',
      '(0010,0030)=19610412',
      '-i',
      '(0008,0080)=St Example Hospital',
      '-i',
      '(0009,0010)=ACMEPRIV',
      file,
    ]).catch(() => undefined);
    phiDicom = readFileSync(file);
    const ds = dicomParser.parseDicom(phiDicom);
    expect(ds.string('x00100010')).toBe('DOE^JANE');
    sourceUids = ['x00080018', 'x0020000d', 'x0020000e'].map((tag) => ds.string(tag)!).filter(Boolean);
    expect(sourceUids.length).toBe(3);
    t = await startTestApp({ ANALYSIS_WORKERS: '0' });
    tech = await t.tokenFor(Role.TECHNICIAN);
    radiologist = await t.tokenFor(Role.RADIOLOGIST);
    admin = await t.tokenFor(Role.ADMIN);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function analyzed(file: string | Buffer, view = 'PA', contentType?: string) {
    const patientId = await createPatient(t, tech);
    const studyId = await createStudy(t, tech, patientId, 'CHEST');
    // The test films name other patients and orders than the fixture's: accepted on purpose.
    await attach(t, tech, studyId, file, view, contentType, {
      accept: ['PATIENT_MISMATCH', 'ACCESSION_MISMATCH'],
      reason: 'test film from another patient',
    });
    const r = await t.gql<{
      analyzeStudy: { id: string; label: string | null; findings: { label: string }[] };
    }>(radiologist, 'mutation($s: ID!) { analyzeStudy(studyId: $s) { id label findings { label } } }', {
      s: studyId,
    });
    expect(r.errors).toBeUndefined();
    return { patientId, studyId, prediction: r.data!.analyzeStudy };
  }

  const SUBMIT = `mutation($i: SubmitCorrectionInput!) { submitCorrection(input: $i) {
    id label comment predictedLabel modelVersionId createdById retrainingCopies retrainingExcludedReason createdAt } }`;

  it('stores who/when/what, copies the DICOM de-identified under the true label, and writes the manifest', async () => {
    if (!ready) return;
    const { prediction, patientId } = await analyzed(phiDicom, 'PA', 'application/dicom');
    const r = await t.gql<{ submitCorrection: Record<string, unknown> }>(radiologist, SUBMIT, {
      i: { predictionId: prediction.id, label: 'TUBERCULOSIS', comment: 'apical cavitation' },
    });
    expect(r.errors).toBeUndefined();
    const c = r.data!.submitCorrection;
    expect(c).toMatchObject({
      label: 'TUBERCULOSIS',
      comment: 'apical cavitation',
      predictedLabel: prediction.label,
      retrainingCopies: 1,
      retrainingExcludedReason: null,
    });
    expect(c.modelVersionId).toBeTruthy();
    expect(c.createdById).toBeTruthy();

    const keys = await t.app.objectStore.list('retraining/chest/');
    const copyKey = keys.find((k) => k.startsWith('retraining/chest/TUBERCULOSIS/'))!;
    expect(copyKey).toMatch(/^retraining\/chest\/TUBERCULOSIS\/[0-9a-f]{32}\.dcm$/);
    for (const s of [...PHI, patientId, prediction.id]) expect(copyKey).not.toContain(s);

    const copy = await t.app.objectStore.get(copyKey);
    const text = copy.toString('latin1');
    for (const s of [...PHI, ...sourceUids, '20040826', '19950926']) expect(text).not.toContain(s);
    const ds = dicomParser.parseDicom(copy);
    expect(ds.string('x00120062')).toBe('YES');
    expect(ds.string('x00120063')).toContain('PS3.15');
    expect(ds.string('x00100010')).toMatch(/^P-[0-9a-f]{20}$/);
    expect(ds.string('x00100030') ?? '').toBe('');
    expect(ds.string('x00080080')).toBeUndefined();
    expect(Object.keys(ds.elements).filter((k) => parseInt(k.slice(1, 5), 16) % 2 === 1)).toEqual([]);
    for (const tag of ['x00080018', 'x0020000d', 'x0020000e']) expect(ds.string(tag)).toMatch(/^2\.25\.\d+$/);
    expect(ds.string('x00020010')).toBe(dicomParser.parseDicom(phiDicom).string('x00020010'));

    const copyFile = join(work, 'copy.dcm');
    writeFileSync(copyFile, copy);
    const { stdout } = await run('dcmdump', ['-E', '+U8', copyFile]);
    for (const s of [...PHI, ...sourceUids]) expect(stdout).not.toContain(s);
    expect(stdout).toContain('PatientIdentityRemoved');
    expect(stdout).toMatch(/\(0012,0064\) SQ/);

    const manifest = readCsvRecords(
      (await t.app.objectStore.get('retraining/chest/manifest.csv')).toString('utf8'),
    );
    const row = manifest.find((m) => m.object_key === copyKey)!;
    expect(row).toEqual({
      object_key: copyKey,
      true_label: 'TUBERCULOSIS',
      predicted_label: prediction.label ?? '',
      model_version: await shippedVersion('chest'),
      group: ds.string('x00100020'),
      correction_id: c.id,
    });
    const audit = await t.app.orm.em
      .fork()
      .getConnection()
      .execute(
        `select action, patient_id from audit_event where entity_type = 'Correction' and entity_id = ?`,
        [c.id],
      );
    expect(audit).toEqual([{ action: 'CREATE', patient_id: patientId }]);
  }, 120_000);

  it('re-encodes a PNG without its metadata, and a later correction moves the copy to the new label', async () => {
    if (!ready) return;
    const png = await sharp(fixtureFile('chest/kermany/test/NORMAL/IM-0001-0001.jpeg'))
      .grayscale()
      .png()
      .toBuffer();
    const tagged = pngWithTextChunk(png, 'Patient DOE^JANE MRN778899');
    const { prediction } = await analyzed(tagged, 'PA', 'image/png');
    const first = await t.gql<{ submitCorrection: { id: string } }>(radiologist, SUBMIT, {
      i: { predictionId: prediction.id, label: 'PNEUMONIA' },
    });
    expect(first.errors).toBeUndefined();
    const [pneumoniaKey] = (await t.app.objectStore.list('retraining/chest/PNEUMONIA/')).filter((k) =>
      k.endsWith('.png'),
    );
    const copy = await t.app.objectStore.get(pneumoniaKey!);
    expect(copy.toString('latin1')).not.toContain('DOE^JANE');
    expect(copy.toString('latin1')).not.toContain('tEXt');
    const meta = await sharp(copy).metadata();
    expect(meta.exif).toBeUndefined();

    const second = await t.gql<{ submitCorrection: { id: string } }>(radiologist, SUBMIT, {
      i: { predictionId: prediction.id, label: 'NORMAL' },
    });
    expect(second.errors).toBeUndefined();
    expect(await t.app.objectStore.stat(pneumoniaKey!)).toBeNull();
    const normalKey = pneumoniaKey!.replace('/PNEUMONIA/', '/NORMAL/');
    expect(await t.app.objectStore.stat(normalKey)).not.toBeNull();
    const manifest = readCsvRecords(
      (await t.app.objectStore.get('retraining/chest/manifest.csv')).toString('utf8'),
    );
    expect(manifest.filter((m) => m.object_key.endsWith(normalKey.split('/').pop()!))).toHaveLength(1);
    expect(manifest.some((m) => m.object_key === pneumoniaKey)).toBe(false);
    expect(manifest.find((m) => m.object_key === normalKey)!.correction_id).toBe(
      second.data!.submitCorrection.id,
    );
  }, 120_000);

  it('keeps the correction but makes no copy of a film marked Burned In Annotation = YES', async () => {
    if (!ready) return;
    const file = join(work, 'burned.dcm');
    writeFileSync(file, phiDicom);
    await run('dcmodify', ['-nb', '-ie', '-i', '(0028,0301)=YES', file]).catch(() => undefined);
    const burned = readFileSync(file);
    expect(dicomParser.parseDicom(burned).string('x00280301')).toBe('YES');
    const { prediction } = await analyzed(burned, 'PA', 'application/dicom');
    const before = await t.app.objectStore.list('retraining/chest/NORMAL/');
    const r = await t.gql<{ submitCorrection: Record<string, unknown> }>(radiologist, SUBMIT, {
      i: { predictionId: prediction.id, label: 'NORMAL' },
    });
    expect(r.errors).toBeUndefined();
    expect(r.data!.submitCorrection).toMatchObject({
      label: 'NORMAL',
      retrainingCopies: 0,
      retrainingExcludedReason: 'UNSUPPORTED_IMAGE',
    });
    expect(await t.app.objectStore.list('retraining/chest/NORMAL/')).toEqual(before);
  }, 120_000);

  it('refuses a label outside the task classes and an unknown prediction, leaving nothing behind', async () => {
    if (!ready) return;
    const { prediction } = await analyzed('chest/kermany/test/NORMAL/IM-0001-0001.jpeg', 'PA');
    const before = (await t.app.objectStore.list('retraining/')).length;
    const em = t.app.orm.em.fork();
    const rows = await em.count(Correction, {});
    const bad = await t.gql(radiologist, SUBMIT, { i: { predictionId: prediction.id, label: 'FRACTURE' } });
    expect(bad.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const missing = await t.gql(radiologist, SUBMIT, {
      i: { predictionId: '00000000-0000-4000-8000-000000000000', label: 'NORMAL' },
    });
    expect(missing.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    const long = await t.gql(radiologist, SUBMIT, {
      i: { predictionId: prediction.id, label: 'NORMAL', comment: 'x'.repeat(2001) },
    });
    expect(long.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(await em.count(Correction, {})).toBe(rows);
    expect((await t.app.objectStore.list('retraining/')).length).toBe(before);
  }, 120_000);

  it('computes recall, specificity and agreement per model version and window, as a query and as gauges', async () => {
    if (!ready) return;
    const em = t.app.orm.em.fork();
    // Start from a clean slate of corrections so the expected counts are exact.
    await em.getConnection().execute('delete from correction');
    const studies: { id: string; label: string | null; flagged: boolean }[] = [];
    for (const file of [
      'chest/kermany/test/NORMAL/IM-0001-0001.jpeg',
      'chest/kermany/test/PNEUMONIA/person100_bacteria_475.jpeg',
      'chest/kermany/test/NORMAL/IM-0003-0001.jpeg',
      'chest/kermany/test/PNEUMONIA/person100_bacteria_477.jpeg',
    ]) {
      const { prediction } = await analyzed(file);
      studies.push({ id: prediction.id, label: prediction.label, flagged: prediction.findings.length > 0 });
    }
    const truths = ['NORMAL', 'PNEUMONIA', 'PNEUMONIA', 'NORMAL'];
    for (let i = 0; i < studies.length; i++) {
      const r = await t.gql(radiologist, SUBMIT, { i: { predictionId: studies[i]!.id, label: truths[i] } });
      expect(r.errors).toBeUndefined();
    }
    // Move the last two corrections into the previous day's window.
    await em
      .getConnection()
      .execute(
        `update correction set created_at = created_at - interval '1 day' where prediction_id in (?, ?)`,
        [studies[2]!.id, studies[3]!.id],
      );
    const expected = (idx: number[]) => {
      const c = { tp: 0, fn: 0, tn: 0, fp: 0, agree: 0 };
      for (const i of idx) {
        const pos = truths[i] !== 'NORMAL';
        const flagged = studies[i]!.flagged;
        if (pos && flagged) c.tp++;
        else if (pos) c.fn++;
        else if (flagged) c.fp++;
        else c.tn++;
        if (studies[i]!.label === truths[i]) c.agree++;
      }
      return c;
    };
    const now = Date.now();
    const day = 86400;
    const r = await t.gql<{ correctionQuality: Record<string, number | string | null>[] }>(
      admin,
      `query($i: CorrectionQualityInput!) { correctionQuality(input: $i) { task modelVersion windowStart windowEnd n refused
        truePositives falseNegatives trueNegatives falsePositives recall specificity agreement } }`,
      {
        i: {
          from: new Date(now - 3 * day * 1000).toISOString(),
          to: new Date(now + 60_000).toISOString(),
          bucketSeconds: day,
          task: 'CHEST',
        },
      },
    );
    expect(r.errors).toBeUndefined();
    const windows = r.data!.correctionQuality;
    const chestVersion = await shippedVersion('chest');
    expect(windows).toHaveLength(2);
    const [older, newer] = windows;
    for (const [w, idx] of [
      [older!, [2, 3]],
      [newer!, [0, 1]],
    ] as const) {
      const e = expected([...idx]);
      expect(w).toMatchObject({
        task: 'CHEST',
        modelVersion: chestVersion,
        n: 2,
        refused: 0,
        truePositives: e.tp,
        falseNegatives: e.fn,
        trueNegatives: e.tn,
        falsePositives: e.fp,
        recall: e.tp + e.fn ? e.tp / (e.tp + e.fn) : null,
        specificity: e.tn + e.fp ? e.tn / (e.tn + e.fp) : null,
        agreement: e.agree / 2,
      });
    }
    const bad = await t.gql(
      admin,
      'query($i: CorrectionQualityInput!) { correctionQuality(input: $i) { n } }',
      {
        i: { from: new Date(now).toISOString(), to: new Date(now - 1000).toISOString() },
      },
    );
    expect(bad.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);

    const text = await t.app.metrics.render();
    const all = expected([0, 1, 2, 3]);
    const line = (name: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(`${name}{`) && l.includes('window="7d"') && l.includes('task="CHEST"'));
    expect(line('care_companion_corrections')).toMatch(/ 4$/);
    expect(Number(line('care_companion_correction_agreement')!.split(' ').pop())).toBeCloseTo(
      all.agree / 4,
      10,
    );
    if (all.tp + all.fn)
      expect(Number(line('care_companion_correction_recall')!.split(' ').pop())).toBeCloseTo(
        all.tp / (all.tp + all.fn),
        10,
      );
    // The 24h window holds only the two recent corrections.
    const day1 = text
      .split('\n')
      .find((l) => l.startsWith('care_companion_corrections{') && l.includes('window="24h"'));
    expect(day1).toMatch(/ 2$/);
  }, 180_000);
});
