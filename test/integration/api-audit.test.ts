/**
 * The audit trail: reads of patient data and every mutation leave an event (the mutation's in its
 * own transaction), admins can filter it, nothing in the API or the database can change it, and it
 * holds ids only (no names, no MRNs).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import sharp from 'sharp';
import { Role } from '../../src/domain/enums';
import { startTestApp, TestApp } from '../support/test-app';

interface AuditRow {
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  patient_id: string | null;
  request_id: string | null;
  operation: string | null;
}

let t: TestApp;
let sql: Client;
let tech: string;
let techId: string;
let admin: string;
let adminId: string;
let radiologist: string;
let radiologistId: string;

/** PHI of the patient used throughout; none of it may appear in audit rows. */
const PHI = {
  mrn: 'MRN-PHI-4711',
  givenName: 'Zenobia',
  familyName: 'Quetzalcoatl',
  birthDate: '1961-07-19',
};
let patientId: string;
let studyId: string;

/** POSTs an operation with a chosen request id, so its audit rows can be found. */
async function call<T = Record<string, unknown>>(
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
) {
  const requestId = `req-${randomUUID()}`;
  const res = await fetch(`${t.app.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      'x-request-id': requestId,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { extensions?: { code?: string } }[] };
  return { requestId, status: res.status, ...body };
}

async function rowsOf(requestId: string): Promise<AuditRow[]> {
  const { rows } = await sql.query<AuditRow>(
    'select actor_id, actor_role, action, entity_type, entity_id, patient_id, request_id, operation from audit_event where request_id = $1 order by entity_type, entity_id',
    [requestId],
  );
  return rows;
}

async function count(table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(
    `select count(*) as n from ${table} where ${where}`,
    params,
  );
  return Number(rows[0].n);
}

beforeAll(async () => {
  t = await startTestApp();
  sql = new Client({ connectionString: t.db.url });
  await sql.connect();
  const mk = async (role: Role) => {
    const { token, user } = await t.app.users.bootstrapAdmin(
      `${role.toLowerCase()}-${randomUUID()}@test`,
      role,
    );
    return [token, user.id] as const;
  };
  [tech, techId] = await mk(Role.TECHNICIAN);
  [admin, adminId] = await mk(Role.ADMIN);
  [radiologist, radiologistId] = await mk(Role.RADIOLOGIST);
  const p = await call<{ createPatient: { id: string } }>(
    tech,
    'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }',
    { i: { ...PHI, sex: 'FEMALE' } },
  );
  patientId = p.data!.createPatient.id;
  const s = await call<{ createStudy: { id: string } }>(
    tech,
    'mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: "ACC-AUDIT-1"}) { id } }',
    { p: patientId },
  );
  studyId = s.data!.createStudy.id;
});

afterAll(async () => {
  await sql?.end();
  await t?.stop();
});

describe('reads of patient data', () => {
  it('patient(id) writes one READ with actor, role, patient and request id', async () => {
    const res = await call(radiologist, 'query($id: ID!) { patient(id: $id) { id mrn familyName } }', {
      id: patientId,
    });
    expect(res.errors).toBeUndefined();
    expect(await rowsOf(res.requestId)).toEqual([
      {
        actor_id: radiologistId,
        actor_role: 'RADIOLOGIST',
        action: 'READ',
        entity_type: 'Patient',
        entity_id: patientId,
        patient_id: patientId,
        request_id: res.requestId,
        operation: 'query patient',
      },
    ]);
  });

  it('the patients list writes a READ per patient returned', async () => {
    const res = await call<{ patients: { edges: { node: { id: string } }[] } }>(
      radiologist,
      'query Listing { patients(first: 10) { edges { node { id } } } }',
    );
    expect(res.errors).toBeUndefined();
    const returned = res.data!.patients.edges.map((e) => e.node.id).sort();
    expect(returned).toContain(patientId);
    const rows = await rowsOf(res.requestId);
    expect(rows.map((r) => r.entity_id).sort()).toEqual(returned);
    for (const r of rows) {
      expect(r).toMatchObject({
        action: 'READ',
        entity_type: 'Patient',
        actor_id: radiologistId,
        actor_role: 'RADIOLOGIST',
        // Server-made (type and root fields), never the client's operationName.
        operation: 'query patients',
      });
      expect(r.patient_id).toBe(r.entity_id);
    }
  });

  it('study.patient writes a READ of the study and of the patient reached through it', async () => {
    const res = await call(
      radiologist,
      'query($id: ID!) { study(id: $id) { id patient { id familyName } } }',
      { id: studyId },
    );
    expect(res.errors).toBeUndefined();
    const rows = await rowsOf(res.requestId);
    expect(rows.map((r) => [r.action, r.entity_type, r.entity_id, r.patient_id])).toEqual([
      ['READ', 'Patient', patientId, patientId],
      ['READ', 'Study', studyId, patientId],
    ]);
  });

  it('the studies list writes a READ per study with its patient', async () => {
    const res = await call<{ studies: { edges: { node: { id: string } }[] } }>(
      tech,
      '{ studies(first: 10) { edges { node { id } } } }',
    );
    expect(res.errors).toBeUndefined();
    const rows = await rowsOf(res.requestId);
    expect(rows.map((r) => r.entity_id).sort()).toEqual(res.data!.studies.edges.map((e) => e.node.id).sort());
    expect(rows.find((r) => r.entity_id === studyId)).toMatchObject({
      action: 'READ',
      entity_type: 'Study',
      patient_id: patientId,
      actor_role: 'TECHNICIAN',
      actor_id: techId,
    });
  });

  it('a read that fails (NOT_FOUND) or is refused (FORBIDDEN) reveals no patient data and audits no read (a refusal is audited as DENIED)', async () => {
    const missing = await call(radiologist, 'query($id: ID!) { patient(id: $id) { id } }', {
      id: randomUUID(),
    });
    expect(missing.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(await rowsOf(missing.requestId)).toEqual([]);
    const refused = await call(admin, 'query($id: ID!) { patient(id: $id) { id } }', { id: patientId });
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await rowsOf(refused.requestId)).toEqual([
      expect.objectContaining({
        action: 'DENIED',
        actor_role: 'ADMIN',
        entity_type: 'Operation',
        entity_id: 'patient',
        operation: 'query patient',
        patient_id: null,
      }),
    ]);
  });
});

describe('mutations', () => {
  const auditOf = async (requestId: string) =>
    (await rowsOf(requestId)).map((r) => ({
      action: r.action,
      entity: r.entity_type,
      id: r.entity_id,
      patient: r.patient_id,
      actor: r.actor_id,
    }));

  it('createPatient and updatePatient each write their event', async () => {
    const created = await call<{ createPatient: { id: string } }>(
      tech,
      'mutation { createPatient(input: {mrn: "MRN-AUD-2", givenName: "Ab", familyName: "Cd"}) { id } }',
    );
    const id = created.data!.createPatient.id;
    expect(await auditOf(created.requestId)).toEqual([
      { action: 'CREATE', entity: 'Patient', id, patient: id, actor: techId },
    ]);
    const updated = await call(
      tech,
      'mutation($id: ID!) { updatePatient(id: $id, input: {familyName: "Ef"}) { id } }',
      { id },
    );
    expect(updated.errors).toBeUndefined();
    expect(await auditOf(updated.requestId)).toEqual([
      { action: 'UPDATE', entity: 'Patient', id, patient: id, actor: techId },
    ]);
  });

  it('createStudy and updateStudy each write their event', async () => {
    const created = await call<{ createStudy: { id: string } }>(
      tech,
      'mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: WRIST, accessionNumber: "ACC-AUDIT-2"}) { id } }',
      { p: patientId },
    );
    const id = created.data!.createStudy.id;
    expect(await auditOf(created.requestId)).toEqual([
      { action: 'CREATE', entity: 'Study', id, patient: patientId, actor: techId },
    ]);
    const updated = await call(
      tech,
      'mutation($id: ID!) { updateStudy(id: $id, input: {priority: STAT}) { id } }',
      { id },
    );
    expect(updated.errors).toBeUndefined();
    expect(await auditOf(updated.requestId)).toEqual([
      { action: 'UPDATE', entity: 'Study', id, patient: patientId, actor: techId },
    ]);
  });

  it('uploadImageBase64 writes the upload and the image creation', async () => {
    const png = await sharp(Buffer.alloc(64 * 64, 128), { raw: { width: 64, height: 64, channels: 1 } })
      .png()
      .toBuffer();
    const res = await call<{ uploadImageBase64: { id: string } }>(
      tech,
      'mutation($s: ID!, $d: String!) { uploadImageBase64(input: {studyId: $s, view: PA, dataBase64: $d}) { id } }',
      { s: studyId, d: png.toString('base64') },
    );
    expect(res.errors).toBeUndefined();
    const rows = await auditOf(res.requestId);
    expect(rows).toEqual([
      {
        action: 'CREATE',
        entity: 'Image',
        id: res.data!.uploadImageBase64.id,
        patient: patientId,
        actor: techId,
      },
      { action: 'UPLOAD', entity: 'Upload', id: expect.any(String), patient: null, actor: techId },
    ]);
  });

  it('createUser, issueToken and deactivateUser each write their event', async () => {
    const created = await call<{ createUser: { id: string } }>(
      admin,
      'mutation { createUser(input: {email: "new.user@example.org", displayName: "New", role: ADMIN}) { id } }',
    );
    const id = created.data!.createUser.id;
    expect(await auditOf(created.requestId)).toEqual([
      { action: 'CREATE', entity: 'User', id, patient: null, actor: adminId },
    ]);
    const issued = await call(admin, 'mutation($id: ID!) { issueToken(input: {userId: $id}) { token } }', {
      id,
    });
    expect(issued.errors).toBeUndefined();
    expect(await auditOf(issued.requestId)).toEqual([
      { action: 'LOGIN', entity: 'User', id, patient: null, actor: adminId },
    ]);
    const off = await call(admin, 'mutation($id: ID!) { deactivateUser(id: $id) { id } }', { id });
    expect(off.errors).toBeUndefined();
    expect(await auditOf(off.requestId)).toEqual([
      { action: 'UPDATE', entity: 'User', id, patient: null, actor: adminId },
    ]);
  });

  it('a duplicate MRN is a CONFLICT that leaves neither a row nor an audit event', async () => {
    const [patients, events] = [await count('patient'), await count('audit_event')];
    const res = await call(
      tech,
      'mutation($m: String!) { createPatient(input: {mrn: $m, givenName: "X", familyName: "Y"}) { id } }',
      { m: PHI.mrn },
    );
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);
    expect(res.data).toBeNull();
    expect(await rowsOf(res.requestId)).toEqual([]);
    expect([await count('patient'), await count('audit_event')]).toEqual([patients, events]);
  });

  it('a duplicate accession number is a CONFLICT that leaves neither a row nor an audit event', async () => {
    const [studies, events] = [await count('study'), await count('audit_event')];
    const res = await call(
      tech,
      'mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: "ACC-AUDIT-1"}) { id } }',
      { p: patientId },
    );
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);
    expect(await rowsOf(res.requestId)).toEqual([]);
    expect([await count('study'), await count('audit_event')]).toEqual([studies, events]);
  });
});

describe('reading the trail', () => {
  type Page = { auditEvents: { totalCount: number; edges: { node: Record<string, string | null> }[] } };
  const Q = `query($f: AuditEventFilter) { auditEvents(first: 100, filter: $f) {
    totalCount edges { node { id actorId actorRole action entityType entityId patientId requestId operation createdAt } } } }`;

  it('admins filter by patient, actor, action and record type', async () => {
    const byPatient = await call<Page>(admin, Q, { f: { patientId } });
    expect(byPatient.errors).toBeUndefined();
    const nodes = byPatient.data!.auditEvents.edges.map((e) => e.node);
    expect(nodes.length).toBeGreaterThan(3);
    expect(byPatient.data!.auditEvents.totalCount).toBe(
      await count('audit_event', 'patient_id = $1', [patientId]),
    );
    expect(nodes.every((n) => n.patientId === patientId)).toBe(true);
    expect(new Set(nodes.map((n) => n.action))).toEqual(new Set(['CREATE', 'READ', 'UPDATE']));

    const filtered = await call<Page>(admin, Q, {
      f: { patientId, actorId: radiologistId, action: 'READ', entityType: 'Study' },
    });
    const rows = filtered.data!.auditEvents.edges.map((e) => e.node);
    expect(rows.length).toBe(
      await count(
        'audit_event',
        "patient_id = $1 and actor_id = $2 and action = 'READ' and entity_type = 'Study'",
        [patientId, radiologistId],
      ),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const n of rows)
      expect(n).toMatchObject({
        patientId,
        actorId: radiologistId,
        actorRole: 'RADIOLOGIST',
        action: 'READ',
        entityType: 'Study',
        entityId: studyId,
      });

    const none = await call<Page>(admin, Q, { f: { actorId: randomUUID() } });
    expect(none.data!.auditEvents).toEqual({ totalCount: 0, edges: [] });
  });

  it('rejects a malformed id filter with BAD_USER_INPUT', async () => {
    const res = await call(admin, Q, { f: { patientId: 'not-a-uuid' } });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('immutability', () => {
  it('the schema has no mutation whose name mentions audit', async () => {
    const res = await call<{ __schema: { mutationType: { fields: { name: string }[] } } }>(
      admin,
      '{ __schema { mutationType { fields { name } } } }',
    );
    const names = res.data!.__schema.mutationType.fields.map((f) => f.name);
    expect(names).toContain('createPatient');
    expect(names.filter((n) => /audit/i.test(n))).toEqual([]);
  });

  it.each([
    ['UPDATE', "update audit_event set action = 'DELETE'"],
    ['DELETE', 'delete from audit_event'],
    ['TRUNCATE', 'truncate audit_event'],
  ])('the database refuses %s on audit_event', async (_verb, statement) => {
    const before = await count('audit_event');
    expect(before).toBeGreaterThan(0);
    await expect(sql.query(statement)).rejects.toMatchObject({ code: '42501' });
    expect(await count('audit_event')).toBe(before);
    expect(await count('audit_event', "action = 'DELETE'")).toBe(0);
  });
});

describe('no PHI in the trail', () => {
  it('no audit row holds a name, MRN or birth date', async () => {
    const { rows } = await sql.query<{ row: string }>(
      'select row_to_json(a)::text as row from audit_event a',
    );
    expect(rows.length).toBeGreaterThan(10);
    const text = rows
      .map((r) => r.row)
      .join('\n')
      .toLowerCase();
    for (const value of [...Object.values(PHI), 'MRN-AUD-2', 'ACC-AUDIT-1', 'new.user@example.org']) {
      expect({ value, found: text.includes(value.toLowerCase()) }).toEqual({ value, found: false });
    }
  });
});
