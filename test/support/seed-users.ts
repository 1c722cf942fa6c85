import { TokenService } from '../../src/auth/token.service';
import { createOrm, migrateToLatest } from '../../src/db/orm';
import type { Role } from '../../src/domain/enums';
import { User } from '../../src/domain/user/user.entity';

/**
 * Migrates a database and creates one active user per role (`<role>@<label>`), returning a bearer
 * token for each, signed with `secret`: for tests that start server processes on that database.
 */
export async function seedUsers<R extends Role>(
  databaseUrl: string,
  secret: string,
  roles: readonly R[],
  label: string,
): Promise<Record<R, string>> {
  const orm = await createOrm({ url: databaseUrl, poolMax: 2 });
  try {
    await migrateToLatest(orm);
    const em = orm.em.fork();
    const users = roles.map((role) =>
      em.create(User, {
        email: `${role.toLowerCase()}@${label}`,
        displayName: role,
        role,
        active: true,
      } as User),
    );
    await em.flush();
    const issuer = new TokenService(secret, 'care-companion', 3600);
    const tokens = {} as Record<R, string>;
    for (const [i, role] of roles.entries()) tokens[role] = (await issuer.mint(users[i]!.id, role)).token;
    return tokens;
  } finally {
    await orm.close(true);
  }
}
