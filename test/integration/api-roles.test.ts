/**
 * Role matrix over the real HTTP and WebSocket transport. Expected outcomes come from ROLE_PERMISSIONS
 * (the single source of role rules): each operation names the permission it needs, and a role is
 * allowed exactly when the policy table grants it all of them.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Permission, ROLE_PERMISSIONS, roleHas } from '../../src/auth/policy';
import { TokenService } from '../../src/auth/token.service';
import { Role } from '../../src/domain/enums';
import { actUntilReceived, connectWs, subscribe, waitForClose } from '../support/graphql-ws-client';
import { seedPrediction } from '../support/note-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

type Outcome = 'OK' | 'NOT_FOUND' | 'ILLEGAL_MODEL_TRANSITION' | 'PACS_NOT_CONFIGURED';

/** One API operation: what it needs, how to call it, and what an allowed caller gets. */
interface Operation {
  name: string;
  needs: Permission[];
  query: string;
  variables: () => Record<string, unknown>;
  whenAllowed: Outcome;
}

const ROLES = Object.keys(ROLE_PERMISSIONS) as Role[];

let t: TestApp;
let seq = 0;
const ids = { patient: '', study: '', user: '' };
const next = () => `${process.pid}-${++seq}`;

const MUTATIONS: Operation[] = [
  {
    name: 'createPatient',
    needs: [Permission.WRITE_PATIENT_DATA],
    query:
      'mutation($mrn: String!) { createPatient(input: {mrn: $mrn, givenName: "G", familyName: "F"}) { id } }',
    variables: () => ({ mrn: `MRN-${next()}` }),
    whenAllowed: 'OK',
  },
  {
    name: 'updatePatient',
    needs: [Permission.WRITE_PATIENT_DATA],
    query: 'mutation($id: ID!) { updatePatient(id: $id, input: {givenName: "H"}) { id } }',
    variables: () => ({ id: ids.patient }),
    whenAllowed: 'OK',
  },
  {
    name: 'createStudy',
    needs: [Permission.WRITE_PATIENT_DATA],
    query:
      'mutation($p: ID!, $acc: String!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: $acc}) { id } }',
    variables: () => ({ p: ids.patient, acc: `ACC-${next()}` }),
    whenAllowed: 'OK',
  },
  {
    name: 'updateStudy',
    needs: [Permission.WRITE_PATIENT_DATA],
    query: 'mutation($id: ID!) { updateStudy(id: $id, input: {priority: URGENT}) { id } }',
    variables: () => ({ id: ids.study }),
    whenAllowed: 'OK',
  },
  {
    name: 'attachImage',
    needs: [Permission.UPLOAD_IMAGES],
    query: 'mutation($s: ID!, $u: ID!) { attachImage(input: {studyId: $s, uploadId: $u, view: PA}) { id } }',
    variables: () => ({ s: ids.study, u: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'uploadImageBase64',
    needs: [Permission.UPLOAD_IMAGES],
    query:
      'mutation($s: ID!) { uploadImageBase64(input: {studyId: $s, view: PA, dataBase64: "aGVsbG8="}) { id } }',
    variables: () => ({ s: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'createUser',
    needs: [Permission.MANAGE_USERS],
    query:
      'mutation($e: String!) { createUser(input: {email: $e, displayName: "U", role: TECHNICIAN}) { id } }',
    variables: () => ({ e: `user-${next()}@example.org` }),
    whenAllowed: 'OK',
  },
  {
    name: 'deactivateUser',
    needs: [Permission.MANAGE_USERS],
    query: 'mutation($id: ID!) { deactivateUser(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'generateNote',
    needs: [Permission.DRAFT_NOTES],
    query: 'mutation($p: ID!) { generateNote(predictionId: $p, audience: PATIENT, language: "en") { id } }',
    variables: () => ({ p: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'approveNote',
    needs: [Permission.CORRECT_PREDICTIONS],
    query: 'mutation($id: ID!) { approveNote(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'rejectNote',
    needs: [Permission.CORRECT_PREDICTIONS],
    query: 'mutation($id: ID!) { rejectNote(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'issueToken',
    needs: [Permission.MANAGE_USERS],
    query: 'mutation($id: ID!) { issueToken(input: {userId: $id}) { expiresAt } }',
    variables: () => ({ id: ids.user }),
    whenAllowed: 'OK',
  },
  {
    name: 'submitCorrection',
    needs: [Permission.CORRECT_PREDICTIONS],
    query: 'mutation($p: ID!) { submitCorrection(input: {predictionId: $p, label: "NORMAL"}) { id } }',
    variables: () => ({ p: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'startCanary',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($id: ID!) { startCanary(id: $id, trafficShare: 0.1) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'setCanaryShare',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($id: ID!) { setCanaryShare(id: $id, trafficShare: 0.1) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'promoteModelVersion',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($id: ID!) { promoteModelVersion(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'archiveModelVersion',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($id: ID!) { archiveModelVersion(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'rollbackModelVersion',
    needs: [Permission.MANAGE_MODELS],
    // The shipped wrist model is the first production version: there is nothing to roll back to.
    query: 'mutation { rollbackModelVersion(task: WRIST) { id } }',
    variables: () => ({}),
    whenAllowed: 'ILLEGAL_MODEL_TRANSITION',
  },
  {
    name: 'importStudyFromPacs',
    needs: [Permission.IMPORT_STUDIES],
    query: 'mutation { importStudyFromPacs(studyInstanceUid: "1.2.3.4") { stored } }',
    variables: () => ({}),
    whenAllowed: 'PACS_NOT_CONFIGURED',
  },
  {
    name: 'exportPredictionToPacs',
    needs: [Permission.EXPORT_RESULTS],
    query: 'mutation($id: ID!) { exportPredictionToPacs(predictionId: $id) { sopInstanceUid } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'acknowledgeDriftAlert',
    needs: [Permission.TRIAGE_DRIFT_ALERTS],
    query: 'mutation($id: ID!) { acknowledgeDriftAlert(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'resolveDriftAlert',
    needs: [Permission.TRIAGE_DRIFT_ALERTS],
    query: 'mutation($id: ID!) { resolveDriftAlert(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'startRetraining',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation { startRetraining(task: CHEST) { id status } }',
    variables: () => ({}),
    whenAllowed: 'OK',
  },
];

const page = (field: string, args = 'first: 5') =>
  `{ ${field}(${args}) { totalCount edges { node { id } } } }`;
const QUERIES: Operation[] = [
  {
    name: 'patient',
    needs: [Permission.READ_PATIENT_DATA],
    query: 'query($id: ID!) { patient(id: $id) { id } }',
    variables: () => ({ id: ids.patient }),
    whenAllowed: 'OK',
  },
  {
    name: 'patients',
    needs: [Permission.READ_PATIENT_DATA],
    query: page('patients'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'study',
    needs: [Permission.READ_PATIENT_DATA],
    query: 'query($id: ID!) { study(id: $id) { id } }',
    variables: () => ({ id: ids.study }),
    whenAllowed: 'OK',
  },
  {
    name: 'studies',
    needs: [Permission.READ_PATIENT_DATA],
    query: page('studies'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'images',
    needs: [Permission.READ_PATIENT_DATA],
    query: page('images'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'predictions',
    needs: [Permission.READ_PREDICTIONS],
    query: page('predictions'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'prediction',
    needs: [Permission.READ_PREDICTIONS],
    query: 'query($id: ID!) { prediction(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'clinicalNote',
    needs: [Permission.READ_PREDICTIONS],
    query: 'query($id: ID!) { clinicalNote(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'clinicalNotes',
    needs: [Permission.READ_PREDICTIONS],
    query: page('clinicalNotes'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'auditEvents',
    needs: [Permission.READ_AUDIT],
    query: page('auditEvents'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'users',
    needs: [Permission.MANAGE_USERS],
    query: page('users'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'modelVersions',
    needs: [Permission.READ_MODELS],
    query: page('modelVersions'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'trainingRun',
    needs: [Permission.READ_MODELS],
    query: 'query($id: ID!) { trainingRun(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'correctionQuality',
    needs: [Permission.READ_MONITORING],
    query:
      'query { correctionQuality(input: {from: "2026-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z"}) { n recall } }',
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'modelLineage',
    needs: [Permission.READ_MODELS],
    query: 'query($id: ID!) { modelLineage(id: $id) { modelVersion { id } } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'driftAlerts',
    needs: [Permission.READ_MONITORING],
    query: page('driftAlerts'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'driftChecks',
    needs: [Permission.READ_MONITORING],
    query: '{ driftChecks { id } }',
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'monitoringOverview',
    needs: [Permission.READ_MONITORING],
    query: '{ monitoringOverview { warning } }',
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'pacsStudies',
    needs: [Permission.IMPORT_STUDIES, Permission.READ_PATIENT_DATA],
    query: '{ pacsStudies { studyInstanceUid } }',
    variables: () => ({}),
    whenAllowed: 'PACS_NOT_CONFIGURED',
  },
];

const STUDY_EVENTS = { name: 'studyEvents', needs: [Permission.SUBSCRIBE, Permission.READ_PATIENT_DATA] };
const MODEL_EVENTS = { name: 'modelVersionChanged', needs: [Permission.SUBSCRIBE, Permission.READ_MODELS] };
const NOTE_DRAFTS = { name: 'noteDraftStreamed', needs: [Permission.SUBSCRIBE, Permission.DRAFT_NOTES] };
const SUBSCRIPTION = 'subscription { studyEvents { change study { id accessionNumber } } }';

/** Row counts of the tables mutations write; a refused mutation must leave them as they were. */
async function rowCounts(): Promise<Record<string, number>> {
  const rows = await t.app.orm.em
    .fork()
    .getConnection()
    .execute(
      `select (select count(*) from patient)::int as patients, (select count(*) from study)::int as studies,
              (select count(*) from image)::int as images, (select count(*) from upload)::int as uploads,
              (select count(*) from app_user where active)::int as active_users, (select count(*) from clinical_note)::int as notes, (select count(*) from audit_event where action <> 'READ')::int as writes`,
    );
  return rows[0] as Record<string, number>;
}

const allowed = (role: Role, needs: Permission[]) => needs.every((p) => roleHas(role, p));
const codes = (errors?: { extensions?: { code?: string } }[]) =>
  (errors ?? []).map((e) => e.extensions?.code);

const tokens = new Map<Role, string>();

beforeAll(async () => {
  // Retraining runs queued by the matrix stay queued: this process takes no retraining jobs.
  t = await startTestApp({ RETRAIN_WORKERS: '0' });
  for (const role of ROLES) tokens.set(role, await t.tokenFor(role));
  const tech = tokens.get(Role.TECHNICIAN)!;
  const p = await t.gql<{ createPatient: { id: string } }>(
    tech,
    'mutation { createPatient(input: {mrn: "SEED-1", givenName: "G", familyName: "F"}) { id } }',
  );
  ids.patient = p.data!.createPatient.id;
  const s = await t.gql<{ createStudy: { id: string } }>(
    tech,
    'mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: "SEED-ACC-1"}) { id } }',
    { p: ids.patient },
  );
  ids.study = s.data!.createStudy.id;
  // An ADMIN: tokens of users who read patient data are never minted through the API (issueToken).
  ids.user = (await t.app.users.bootstrapAdmin(`victim-${next()}@test`, Role.ADMIN)).user.id;
});
afterAll(async () => t?.stop());

describe('the policy table', () => {
  it('covers every role and grants each operation to at least one role and denies it to another', () => {
    expect(new Set(ROLES)).toEqual(new Set(Object.values(Role)));
    for (const op of [...MUTATIONS, ...QUERIES, STUDY_EVENTS, MODEL_EVENTS, NOTE_DRAFTS]) {
      const verdicts = ROLES.map((role) => allowed(role, op.needs));
      expect({
        op: op.name,
        someAllowed: verdicts.includes(true),
        someDenied: verdicts.includes(false),
      }).toEqual({
        op: op.name,
        someAllowed: true,
        someDenied: true,
      });
    }
  });
});

describe.each([...MUTATIONS, ...QUERIES])('$name', (op) => {
  it.each(ROLES)('as %s follows ROLE_PERMISSIONS', async (role) => {
    const before = await rowCounts();
    const res = await t.gql(tokens.get(role)!, op.query, op.variables());
    expect(res.status).toBe(200);
    if (!allowed(role, op.needs)) {
      expect(codes(res.errors)).toEqual(['FORBIDDEN']);
      expect(res.data?.[op.name] ?? null).toBeNull();
      expect(await rowCounts()).toEqual(before);
      return;
    }
    expect(codes(res.errors)).toEqual(op.whenAllowed === 'OK' ? [] : [op.whenAllowed]);
    if (op.whenAllowed === 'OK') expect(res.data?.[op.name]).toBeTruthy();
  });

  it('without a token answers HTTP 401 UNAUTHENTICATED', async () => {
    const res = await t.gql(null, op.query, op.variables());
    expect(res.status).toBe(401);
    expect(codes(res.errors)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('studyEvents subscription over graphql-ws', () => {
  it.each(ROLES)('as %s follows ROLE_PERMISSIONS', async (role) => {
    const ws = connectWs(t.app.url, { authorization: `Bearer ${tokens.get(role)}` });
    try {
      await ws.connected;
      const sub = subscribe<{
        studyEvents: { change: string; study: { id: string; accessionNumber: string } };
      }>(ws.client, SUBSCRIPTION);
      if (!allowed(role, STUDY_EVENTS.needs)) {
        expect(codes(await sub.waitForErrors())).toEqual(['FORBIDDEN']);
        expect(sub.events).toEqual([]);
        return;
      }
      const event = await actUntilReceived(sub, async () => {
        const acc = `SUB-${next()}`;
        const res = await t.gql(
          tokens.get(Role.TECHNICIAN)!,
          'mutation($p: ID!, $a: String!) { createStudy(input: {patientId: $p, bodyPart: WRIST, accessionNumber: $a}) { id } }',
          {
            p: ids.patient,
            a: acc,
          },
        );
        expect(res.errors).toBeUndefined();
        return (e) => e.studyEvents.study.accessionNumber === acc;
      });
      expect(event.studyEvents.change).toBe('CREATED');
      expect(sub.errors).toEqual([]);
      sub.stop();
    } finally {
      await ws.dispose();
    }
  });

  it.each(ROLES.filter((role) => !allowed(role, MODEL_EVENTS.needs)))(
    'refuses modelVersionChanged to %s with FORBIDDEN',
    async (role) => {
      const ws = connectWs(t.app.url, { authorization: `Bearer ${tokens.get(role)}` });
      try {
        await ws.connected;
        const sub = subscribe<{ modelVersionChanged: { kind: string } }>(
          ws.client,
          'subscription { modelVersionChanged { kind } }',
        );
        expect(codes(await sub.waitForErrors())).toEqual(['FORBIDDEN']);
        expect(sub.events).toEqual([]);
      } finally {
        await ws.dispose();
      }
    },
  );

  it.each<[string, () => Promise<Record<string, unknown>>]>([
    ['no connection params', async () => ({})],
    ['a malformed token', async () => ({ authorization: 'Bearer not-a-jwt' })],
    ['an expired token', async () => ({ authorization: `Bearer ${await expiredToken()}` })],
    ['a token signed with another secret', async () => ({ authorization: `Bearer ${await forgedToken()}` })],
    ['an alg:none token', async () => ({ authorization: `Bearer ${await unsignedToken()}` })],
  ])('closes the connection with 4403 for %s', async (_label, params) => {
    const ws = connectWs(t.app.url, await params());
    try {
      expect(await waitForClose(ws)).toBe(4403);
    } finally {
      await ws.dispose();
    }
  });
});

describe('noteDraftStreamed subscription over graphql-ws', () => {
  let predictionId = '';
  beforeAll(async () => {
    ({ predictionId } = await seedPrediction(t, tokens.get(Role.TECHNICIAN)!, [
      { label: 'PNEUMONIA', probability: 0.6, threshold: 0.05 },
    ]));
  });

  it.each(ROLES)('as %s follows ROLE_PERMISSIONS', async (role) => {
    const ws = connectWs(t.app.url, { authorization: `Bearer ${tokens.get(role)}` });
    try {
      await ws.connected;
      const sub = subscribe<{ noteDraftStreamed: { noteId: string; done: boolean } }>(
        ws.client,
        'subscription($p: ID!) { noteDraftStreamed(predictionId: $p) { noteId done } }',
        { p: predictionId },
      );
      if (!allowed(role, NOTE_DRAFTS.needs)) {
        expect(codes(await sub.waitForErrors())).toEqual(['FORBIDDEN']);
        expect(sub.events).toEqual([]);
        return;
      }
      await actUntilReceived(sub, async () => {
        const res = await t.gql<{ generateNote: { id: string } }>(
          tokens.get(Role.RADIOLOGIST)!,
          'mutation($p: ID!) { generateNote(predictionId: $p, audience: PATIENT) { id } }',
          { p: predictionId },
        );
        expect(res.errors).toBeUndefined();
        return (e) => e.noteDraftStreamed.noteId === res.data!.generateNote.id;
      });
      expect(sub.errors).toEqual([]);
      sub.stop();
    } finally {
      await ws.dispose();
    }
  });
});

async function userOf(role: Role): Promise<{ id: string; role: Role }> {
  const { user } = await t.app.users.bootstrapAdmin(`u-${next()}@test`, role);
  return { id: user.id, role: user.role };
}

async function expiredToken(): Promise<string> {
  const user = await userOf(Role.TECHNICIAN);
  return (await t.app.tokens.mint(user.id, user.role, -60)).token;
}

async function forgedToken(): Promise<string> {
  const user = await userOf(Role.ADMIN);
  const other = new TokenService('another-secret-another-secret-another-0', t.app.config.auth.issuer, 3600);
  return (await other.mint(user.id, user.role)).token;
}

async function unsignedToken(): Promise<string> {
  const user = await userOf(Role.ADMIN);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    role: user.role,
    sub: user.id,
    iss: t.app.config.auth.issuer,
    jti: randomUUID(),
    iat: now,
    exp: now + 3600,
  };
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

describe('bad credentials over HTTP', () => {
  const probe = '{ patients(first: 1) { totalCount } }';
  const expectUnauthenticated = async (token: string) => {
    const res = await t.gql(token, probe);
    expect(res.status).toBe(401);
    expect(codes(res.errors)).toEqual(['UNAUTHENTICATED']);
    expect(res.data).toBeUndefined();
  };

  it('accepts a freshly minted token (control for the cases below)', async () => {
    const user = await userOf(Role.TECHNICIAN);
    const res = await t.gql((await t.app.tokens.mint(user.id, user.role)).token, probe);
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
  });

  it('refuses an expired token', async () => {
    await expectUnauthenticated(await expiredToken());
  });

  it('refuses an expired token signed with jose directly (exp in the past)', async () => {
    const user = await userOf(Role.TECHNICIAN);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role: user.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(t.app.config.auth.issuer)
      .setJti(randomUUID())
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(new TextEncoder().encode(t.app.config.auth.secret!));
    await expectUnauthenticated(token);
  });

  it('refuses a token signed with another secret', async () => {
    await expectUnauthenticated(await forgedToken());
  });

  it('refuses an unsigned (alg: none) token', async () => {
    await expectUnauthenticated(await unsignedToken());
  });

  it('refuses a token claiming a role for a user that does not exist', async () => {
    await expectUnauthenticated((await t.app.tokens.mint(randomUUID(), Role.ADMIN)).token);
  });

  it('refuses the token of a deactivated user, over HTTP and WebSocket, at once', async () => {
    const { token, user } = await t.app.users.bootstrapAdmin(`leaver-${next()}@test`, Role.RADIOLOGIST);
    expect((await t.gql(token, probe)).status).toBe(200);
    const ws = connectWs(t.app.url, { authorization: `Bearer ${token}` });
    await ws.connected;
    await ws.dispose();

    const off = await t.gql<{ deactivateUser: { active: boolean } }>(
      tokens.get(Role.ADMIN)!,
      'mutation($id: ID!) { deactivateUser(id: $id) { active } }',
      { id: user.id },
    );
    expect(off.errors).toBeUndefined();
    expect(off.data!.deactivateUser.active).toBe(false);

    await expectUnauthenticated(token);
    const refused = connectWs(t.app.url, { authorization: `Bearer ${token}` });
    try {
      expect(await waitForClose(refused)).toBe(4403);
    } finally {
      await refused.dispose();
    }
  });

  it('stops an open subscription of a user deactivated after connecting (regression: events kept flowing)', async () => {
    const { token, user } = await t.app.users.bootstrapAdmin(`subscriber-${next()}@test`, Role.RADIOLOGIST);
    const ws = connectWs(t.app.url, { authorization: `Bearer ${token}` });
    try {
      await ws.connected;
      const sub = subscribe<{
        studyEvents: { study: { accessionNumber: string; patient: { familyName: string } } };
      }>(ws.client, 'subscription { studyEvents { study { accessionNumber patient { familyName } } } }');
      const createStudy = async (acc: string) => {
        const res = await t.gql(
          tokens.get(Role.TECHNICIAN)!,
          'mutation($p: ID!, $a: String!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: $a}) { id } }',
          {
            p: ids.patient,
            a: acc,
          },
        );
        expect(res.errors).toBeUndefined();
      };
      await actUntilReceived(sub, async () => {
        const acc = `LIVE-${next()}`;
        await createStudy(acc);
        return (e) => e.studyEvents.study.accessionNumber === acc;
      });

      const off = await t.gql(
        tokens.get(Role.ADMIN)!,
        'mutation($id: ID!) { deactivateUser(id: $id) { id } }',
        { id: user.id },
      );
      expect(off.errors).toBeUndefined();
      const after = `AFTER-${next()}`;
      await createStudy(after);
      expect(await waitForClose(ws)).toBe(4403);
      expect(sub.events.some((e) => e.studyEvents.study.accessionNumber === after)).toBe(false);
    } finally {
      await ws.dispose();
    }
  });

  it('uses the current role of the user, not the role claimed in the token', async () => {
    const { user } = await t.app.users.bootstrapAdmin(`claims-${next()}@test`, Role.INTEGRATOR);
    const token = (await t.app.tokens.mint(user.id, Role.ADMIN)).token;
    const res = await t.gql(token, page('users'));
    expect(codes(res.errors)).toEqual(['FORBIDDEN']);
  });
});
