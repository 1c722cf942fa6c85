import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The key of a PostgreSQL advisory lock: the SQL expression that derives it from a name, and its
 * parameters. The expression is part of the lock's identity (`hashtext('x')` and
 * `hashtextextended('x', 0)` are different locks, and the two-key form is a key space of its own), so
 * each caller keeps the form it has always used and processes running older code still exclude it.
 */
export class AdvisoryLockKey {
  private constructor(
    /** The lock function's arguments, with `?` placeholders. */
    readonly sql: string,
    /** Values of the placeholders. */
    readonly params: readonly (string | number)[],
  ) {}

  /** `hashtext(name)`: the name's 32-bit hash as one bigint key. */
  static hashtext(name: string): AdvisoryLockKey {
    return new AdvisoryLockKey('hashtext(?)', [name]);
  }

  /** `hashtextextended(name, 0)`: the name's 64-bit hash, for names too many for 32 bits to keep apart. */
  static hashtextExtended(name: string): AdvisoryLockKey {
    return new AdvisoryLockKey('hashtextextended(?, 0)', [name]);
  }

  /** `(namespace, hashtext(name))`: the two-key form, a 32-bit namespace and the name's 32-bit hash. */
  static namespaced(namespace: number, name: string): AdvisoryLockKey {
    return new AdvisoryLockKey('?, hashtext(?)', [namespace, name]);
  }
}

/**
 * Waits for the advisory locks `keys`, taken in the order given, in one statement. They are held until
 * the transaction of `em` ends, also when the process holding them dies (its connection closes).
 * `em` must be inside a transaction (`em.transactional`): outside one the locks end with the statement.
 */
export async function lockForTransaction(em: EntityManager, ...keys: AdvisoryLockKey[]): Promise<void> {
  if (keys.length === 0) return;
  await em.execute(
    `select ${keys.map((k) => `pg_advisory_xact_lock(${k.sql})`).join(', ')}`,
    keys.flatMap((k) => k.params),
  );
}

/**
 * Takes the advisory lock `key` until the transaction of `em` ends, without waiting: false when another
 * transaction holds it. `em` must be inside a transaction, as for {@link lockForTransaction}.
 */
export async function tryLockForTransaction(em: EntityManager, key: AdvisoryLockKey): Promise<boolean> {
  const [row] = await em.execute<{ locked: boolean }[]>(
    `select pg_try_advisory_xact_lock(${key.sql}) as locked`,
    [...key.params],
  );
  return Boolean(row?.locked);
}
