import { Role } from '../../src/domain/enums';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';
import { ServerProcess, startServerProcess } from '../support/server-process';
import { subscribe, untilReceived, wsClient } from '../support/ws-client';
import { seedUsers } from '../support/seed-users';

const SECRET = 'multi-process-secret-multi-process-secret';

describe('subscriptions across server processes (PostgreSQL LISTEN/NOTIFY)', () => {
  let db: TestDatabase;
  const servers: ServerProcess[] = [];
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    if (
      !requireOrSkip(db.real, 'a real PostgreSQL (DATABASE_URL) is needed for LISTEN/NOTIFY across processes')
    )
      return;
    token = (await seedUsers(db.url, SECRET, [Role.TECHNICIAN], 'multi')).TECHNICIAN;
    const env = { DATABASE_URL: db.url, AUTH_SECRET: SECRET, STORAGE_FS_DIR: `/tmp/cc-multi-${process.pid}` };
    servers.push(...(await Promise.all([startServerProcess(env), startServerProcess(env)])));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await db?.drop();
  });

  it('delivers an event published by process B to a subscriber on process A', async () => {
    if (!db.real) return;
    const [a, b] = servers;
    expect(a.url).not.toBe(b.url);
    const client = wsClient(a.url, token);
    const sub = await subscribe<{
      studyEvents: { change: string; study: { id: string; accessionNumber: string } };
    }>(client, 'subscription { studyEvents { change study { id accessionNumber } } }');
    const post = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(`${b.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { data: Record<string, { id: string }> };
    };
    const patient = await post('mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }', {
      i: { mrn: 'MP-1', givenName: 'Multi', familyName: 'Process' },
    });
    const event = await untilReceived(sub, async (attempt) => {
      const accession = `MP-ACC-${attempt}`;
      await post('mutation($i: CreateStudyInput!) { createStudy(input: $i) { id } }', {
        i: { patientId: patient.data.createPatient.id, bodyPart: 'CHEST', accessionNumber: accession },
      });
      return (e) => e.studyEvents.study.accessionNumber === accession;
    });
    expect(event.studyEvents.change).toBe('CREATED');
    sub.close();
    await client.dispose();
  });
});
