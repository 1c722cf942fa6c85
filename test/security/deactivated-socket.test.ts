/**
 * M1, a deactivated user writing over an open socket. Regression: 17 of 20 `createPatient` sent over
 * a graphql-ws socket after the user was deactivated committed before the 4403 close, because the
 * token was re-checked only after each operation ran. It is now re-checked before.
 */
import { Role } from '../../src/domain/enums';
import { connectWs, subscribe, waitForClose } from '../support/graphql-ws-client';
import type { TestApp } from '../support/test-app';
import { startLightApp } from './light-app';

let t: TestApp;

beforeAll(async () => {
  t = await startLightApp();
});
afterAll(async () => t?.stop());

const countPatients = async (prefix: string): Promise<number> =>
  Number(
    (
      (await t.app.orm.em
        .fork()
        .getConnection()
        .execute('select count(*)::int as n from patient where mrn like ?', [`${prefix}%`])) as {
        n: number;
      }[]
    )[0]!.n,
  );

it('refuses every write a deactivated user sends over a socket opened before, and closes it with 4403', async () => {
  const admin = await t.tokenFor(Role.ADMIN);
  const { token, user } = await t.app.users.bootstrapAdmin(
    `leaving-tech-${process.pid}@test`,
    Role.TECHNICIAN,
  );
  const ws = connectWs(t.app.url, { authorization: `Bearer ${token}` });
  try {
    await ws.connected;
    const create = (mrn: string) =>
      subscribe<{ createPatient: { id: string } }>(
        ws.client,
        `mutation { createPatient(input: {mrn: "${mrn}", givenName: "Late", familyName: "Writer"}) { id } }`,
      );
    // Control: before deactivation the socket writes.
    await create('M1-BEFORE-1').waitForEvent(() => true);
    expect(await countPatients('M1-BEFORE-')).toBe(1);

    const off = await t.gql(admin, 'mutation($id: ID!) { deactivateUser(id: $id) { active } }', {
      id: user.id,
    });
    expect(off.errors).toBeUndefined();

    const writes = Array.from({ length: 20 }, (_, i) => create(`M1-AFTER-${i}`));
    expect(await waitForClose(ws)).toBe(4403);
    await Promise.all(writes.map((w) => w.waitForErrors()));
    expect(writes.flatMap((w) => w.events)).toEqual([]);
    expect(await countPatients('M1-AFTER-')).toBe(0);
  } finally {
    await ws.dispose();
  }
});
