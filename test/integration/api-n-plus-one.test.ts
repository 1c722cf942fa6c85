/**
 * Relations resolve through per-request DataLoaders: the number of SQL statements one request sends
 * does not grow with the number of studies on the page. The count includes the token's user lookup
 * and the audit insert.
 */
import { randomBytes } from 'node:crypto';
import { BodyPart, ImageFormat, ImageView, Role } from '../../src/domain/enums';
import { Image } from '../../src/domain/image/image.entity';
import { Patient } from '../../src/domain/patient/patient.entity';
import { Study } from '../../src/domain/study/study.entity';
import { startTestApp, TestApp } from '../support/test-app';

/** Upper bound for the page query, whatever its size. */
const MAX_STATEMENTS = 8;

const QUERY = `query($n: Int!) { studies(first: $n) { edges { node { id patient { id mrn } images { id view } } } } }`;

let t: TestApp;
let token: string;
let recording: string[] | null = null;
const patients: Patient[] = [];
let studies = 0;

/** True for the log lines that are SQL statements sent to PostgreSQL. */
const isStatement = (line: string) => /^\[query\]/.test(line.trim());

beforeAll(async () => {
  // No periodic registry re-read: its statement would be counted if it fell inside a measured request.
  t = await startTestApp({ MODEL_RECONCILE_INTERVAL_MS: '0' }, { onQuery: (line) => recording?.push(line) });
  token = await t.tokenFor(Role.RADIOLOGIST);
  const em = t.app.orm.em.fork();
  for (let i = 0; i < 10; i++) {
    patients.push(
      em.create(Patient, {
        mrn: `NP1-${i}`,
        givenName: `G${i}`,
        familyName: `F${i}`,
        birthDate: null,
      } as Patient),
    );
  }
  await em.flush();
});
afterAll(async () => t?.stop());

/** Adds studies (round-robin over the patients), each with two images, straight through the ORM. */
async function seedStudies(n: number): Promise<void> {
  const em = t.app.orm.em.fork();
  for (let i = 0; i < n; i++) {
    const k = studies++;
    const study = em.create(Study, {
      patient: em.getReference(Patient, patients[k % patients.length].id),
      bodyPart: BodyPart.CHEST,
      accessionNumber: `NP1-ACC-${k}`,
    } as Study);
    for (const view of [ImageView.PA, ImageView.LATERAL]) {
      const sha = randomBytes(32).toString('hex');
      em.create(Image, {
        study,
        view,
        format: ImageFormat.PNG,
        width: 16,
        height: 16,
        bitsStored: 8,
        photometric: 'MONOCHROME2',
        sha256: sha,
        objectKey: `images/${sha.slice(0, 2)}/${sha}.png`,
        sizeBytes: 100,
      } as Image);
    }
  }
  await em.flush();
}

/** Runs the page query and returns the SQL statements it caused and what it returned. */
async function measure(n: number) {
  recording = [];
  const res = await t.gql<{
    studies: {
      edges: {
        node: { id: string; patient: { id: string; mrn: string }; images: { id: string; view: string }[] };
      }[];
    };
  }>(token, QUERY, { n });
  const statements = recording.filter(isStatement);
  recording = null;
  expect(res.errors).toBeUndefined();
  return { statements, edges: res.data!.studies.edges };
}

describe('studies page with patient and images', () => {
  it('recognises SQL statements in the ORM log (control)', async () => {
    const { statements } = await measure(1);
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.some((s) => /from "app_user"/i.test(s))).toBe(true);
  });

  it('sends the same small number of statements for 10 studies as for 50', async () => {
    await seedStudies(10);
    const small = await measure(50);
    expect(small.edges).toHaveLength(10);

    await seedStudies(40);
    const large = await measure(50);
    expect(large.edges).toHaveLength(50);
    expect(new Set(large.edges.map((e) => e.node.patient.id)).size).toBe(10);
    for (const { node } of large.edges) {
      expect(node.images.map((i) => i.view).sort()).toEqual(['LATERAL', 'PA']);
      expect(node.patient.mrn).toMatch(/^NP1-\d$/);
    }

    console.info(
      `SQL statements per request: ${small.statements.length} with 10 studies, ${large.statements.length} with 50\n${large.statements.map((s) => s.slice(0, 160)).join('\n')}`,
    );
    expect(large.statements.length).toBeLessThanOrEqual(MAX_STATEMENTS);
    expect(large.statements.length).toBe(small.statements.length);
    // One statement per kind: user, studies page, patients batch, images batch, audit insert.
    expect(large.statements.filter((s) => /from "image"/i.test(s))).toHaveLength(1);
    expect(large.statements.filter((s) => /from "patient"/i.test(s))).toHaveLength(1);
    expect(large.statements.filter((s) => /insert into "audit_event"/i.test(s))).toHaveLength(1);
  });

  it('audits every study, patient and image of the page, in one insert', async () => {
    const reads = async () =>
      (
        await t.app.orm.em
          .fork()
          .getConnection()
          .execute(`select count(*)::int as n from audit_event where action = 'READ'`)
      )[0].n as number;
    const before = await reads();
    const { statements, edges } = await measure(50);
    expect(statements.filter((s) => /insert into "audit_event"/i.test(s))).toHaveLength(1);
    expect((await reads()) - before).toBe(edges.length + patients.length + edges.length * 2);
  });
});
