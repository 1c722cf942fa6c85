/**
 * DICOMweb interoperability costs, measured against a real Orthanc on loopback in one run:
 * - multipart parsing of a large STOW-RS body vs copying the same bytes once (memory-bandwidth floor);
 * - STOW-RS ingest of a chest film (new, and already stored) vs POST /uploads + attachImage of the
 *   same file (the existing intake; patient and study made beforehand, outside the timing);
 * - importing a two-instance study from Orthanc (WADO-RS + ingest) vs Orthanc's WADO-RS retrieve alone;
 * - exporting the AI report (build SR + STOW-RS to Orthanc).
 * Writes bench/results/dicomweb.json. Needs the orthanc, orthanc-dicomweb packages and ../shared.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Role } from '../src/domain/enums';
import { buildMultipartRelated, parseMultipart } from '../src/interop/multipart';
import { orthancInstalled, startOrthanc } from '../test/support/orthanc';
import { sharedFile } from '../test/support/shared-data';
import { startTestApp } from '../test/support/test-app';
import { median, r2 } from './bench-utils';

const RG1_STUDY = '1.3.6.1.4.1.5962.1.2.9.20040826185059.5457';
const RG1 = [
  'dicom/real_radiographs/CR_chest_MONO1_j2k_lossy_RG1_J2KI.dcm',
  'dicom/real_radiographs/CR_chest_MONO1_jpegls_nearlossless_RG1_JLSN.dcm',
];
const ROUNDS = 5;

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await fn();
  return [performance.now() - t0, v];
}

async function main() {
  if (!orthancInstalled())
    throw new Error('orthanc and orthanc-dicomweb are not installed (scripts/setup.sh)');
  // 1. Multipart parsing: 64 parts of 4 MiB.
  const parts = Array.from({ length: 64 }, (_, i) => Buffer.alloc(4 * 1024 * 1024, i));
  const built = buildMultipartRelated(parts, 'application/dicom');
  const parseMs: number[] = [];
  const copyMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let t0 = performance.now();
    const parsed = parseMultipart(built.body, built.contentType);
    parseMs.push(performance.now() - t0);
    if (parsed.length !== 64) throw new Error('parse failed');
    t0 = performance.now();
    Buffer.from(built.body);
    copyMs.push(performance.now() - t0);
  }
  const mb = built.body.length / 1024 / 1024;

  const orthanc = await startOrthanc();
  const t = await startTestApp({
    PACS_DICOMWEB_URL: orthanc.dicomWebUrl,
    PACS_USERNAME: orthanc.username,
    PACS_PASSWORD: orthanc.password,
    ANALYSIS_WORKERS: '0',
    DECODE_WORKERS: '0',
  });
  try {
    const tech = await t.tokenFor(Role.TECHNICIAN);
    const radiologist = await t.tokenFor(Role.RADIOLOGIST);
    const auth = { authorization: `Bearer ${tech}` };
    for (const f of RG1) {
      const res = await orthanc.request('/instances', { method: 'POST', body: sharedFile(f) });
      if (!res.ok) throw new Error(`Orthanc refused ${f}`);
    }

    // 2. STOW-RS vs upload + attach of the same file. Each STOW round starts from no record of it
    // (rows removed between rounds), so it measures a first ingest: patient, study and image created.
    // One discarded warm-up run each.
    const film = sharedFile(RG1[1]!);
    const conn = t.app.orm.em.fork().getConnection();
    const forget = async () => {
      await conn.execute(`delete from study where study_instance_uid = '${RG1_STUDY}'`);
      await conn.execute(
        `delete from upload where attached_at is not null and sha256 not in (select sha256 from image)`,
      );
      await conn.execute(`delete from patient where mrn = '9RG1'`);
    };
    const stowOnce = async () => {
      const body = buildMultipartRelated([film], 'application/dicom');
      const [ms, res] = await time(() =>
        fetch(`${t.app.url}/dicom-web/studies`, {
          method: 'POST',
          headers: { ...auth, 'content-type': body.contentType },
          body: body.body,
        }),
      );
      if (res.status !== 200) throw new Error(`STOW answered ${res.status}`);
      await res.arrayBuffer();
      return ms;
    };
    await stowOnce();
    const stowRepeatMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) stowRepeatMs.push(await stowOnce());
    const stowMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await forget();
      stowMs.push(await stowOnce());
    }
    await forget();
    const uploadMs: number[] = [];
    for (let i = -1; i < ROUNDS; i++) {
      const p = await t.gql<{ createPatient: { id: string } }>(
        tech,
        `mutation { createPatient(input: {mrn: "B-${i}", givenName: "B", familyName: "B"}) { id } }`,
      );
      const s = await t.gql<{ createStudy: { id: string } }>(
        tech,
        `mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: "B-${i}"}) { id } }`,
        { p: p.data!.createPatient.id },
      );
      const [ms] = await time(async () => {
        const up = await fetch(`${t.app.url}/uploads`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/dicom' },
          body: film,
        });
        const { uploadId } = (await up.json()) as { uploadId: string };
        const a = await t.gql(
          tech,
          'mutation($s: ID!, $u: ID!) { attachImage(input: {studyId: $s, uploadId: $u, view: PA}) { id } }',
          {
            s: s.data!.createStudy.id,
            u: uploadId,
          },
        );
        if (a.errors) throw new Error(JSON.stringify(a.errors));
      });
      if (i >= 0) uploadMs.push(ms); // round -1 warms up
    }

    // 3. Import from Orthanc (first import stores the J2K film; the JLSN one is already there) vs WADO-RS alone.
    const importQuery =
      'mutation($u: String!) { importStudyFromPacs(studyInstanceUid: $u) { stored alreadyStored failed studyIds } }';
    const [firstImportMs, first] = await time(() =>
      t.gql<{ importStudyFromPacs: { stored: number; alreadyStored: number; studyIds: string[] } }>(
        tech,
        importQuery,
        { u: RG1_STUDY },
      ),
    );
    const reimportMs: number[] = [];
    const wadoMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      reimportMs.push((await time(() => t.gql(tech, importQuery, { u: RG1_STUDY })))[0]);
      wadoMs.push(
        (
          await time(async () => {
            const r = await orthanc.request(`/dicom-web/studies/${RG1_STUDY}`, {
              headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
            });
            await r.arrayBuffer();
          })
        )[0],
      );
    }

    // 4. Analyse and export the report.
    const studyId = first.data!.importStudyFromPacs.studyIds[0]!;
    const analysis = await t.gql<{ analyzeStudy: { id: string; gateVerdict: string; label: string } }>(
      tech,
      'mutation($id: ID!) { analyzeStudy(studyId: $id) { id gateVerdict label } }',
      { id: studyId },
    );
    const predictionId = analysis.data!.analyzeStudy.id;
    const exportMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const [ms, res] = await time(() =>
        t.gql(
          radiologist,
          'mutation($id: ID!) { exportPredictionToPacs(predictionId: $id) { sopInstanceUid } }',
          { id: predictionId },
        ),
      );
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      exportMs.push(ms);
    }

    const results = {
      machine: { cpus: (await import('node:os')).cpus().length },
      multipart: {
        bodyMiB: r2(mb),
        parseMsMedian: r2(median(parseMs)),
        copyMsMedian: r2(median(copyMs)),
        parseMiBPerS: r2(mb / (median(parseMs) / 1000)),
        parseOverCopy: r2(median(parseMs) / median(copyMs)),
      },
      ingest: {
        file: RG1[1],
        fileMiB: r2(film.length / 1024 / 1024),
        stowNewMsMedian: r2(median(stowMs)),
        stowAlreadyStoredMsMedian: r2(median(stowRepeatMs)),
        uploadPlusAttachMsMedian: r2(median(uploadMs)),
        stowNewOverUpload: r2(median(stowMs) / median(uploadMs)),
      },
      import: {
        study: RG1_STUDY,
        firstImport: first.data!.importStudyFromPacs,
        firstImportMs: r2(firstImportMs),
        reimportMsMedian: r2(median(reimportMs)),
        orthancWadoRetrieveMsMedian: r2(median(wadoMs)),
        reimportOverWado: r2(median(reimportMs) / median(wadoMs)),
      },
      export: { analysis: analysis.data!.analyzeStudy, exportSrMsMedian: r2(median(exportMs)) },
    };
    console.log(JSON.stringify(results, null, 2));
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'dicomweb.json'), `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await t.stop();
    await orthanc.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
