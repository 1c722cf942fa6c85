import type { EntityManager } from '@mikro-orm/postgresql';

/** What this needs of node-postgres' client (the connection knex's pool hands out). */
interface PgConnection {
  query(q: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  query(text: string): Promise<unknown>;
  /** node-postgres' record of the statements this connection has prepared, by name. */
  connection?: { parsedStatements?: Record<string, string> };
}

/** PostgreSQL's "cached plan must not change result type": the schema changed under a prepared statement. */
const FEATURE_NOT_SUPPORTED = '0A000';

/**
 * A read every request of a hot path sends, as a named prepared statement: PostgreSQL parses and plans
 * it once per connection (and after a few executions keeps a generic plan) instead of on every request,
 * as MikroORM's `execute` makes it do by inlining the values into the text. The SQL is written with
 * `?` placeholders, as for `em.execute`. Inside a transaction the read goes through `em.execute` on
 * that transaction's connection, unprepared. Logged as MikroORM logs a statement; a database error is
 * converted as MikroORM converts it.
 */
export class PreparedRead {
  private readonly text: string;

  /**
   * @param name - the statement's name on every connection (unique per statement text)
   * @param sql - the statement, `?` for each parameter (no `?` operator, no `?` in a literal)
   */
  constructor(
    readonly name: string,
    private readonly sql: string,
  ) {
    this.text = numbered(sql);
  }

  /** The rows of the statement with these parameter values. */
  rows<T>(em: EntityManager, params: unknown[]): Promise<T[]> {
    return runOnPool<T>(em, this.sql, params, (connection) => this.run(connection, params));
  }

  private async run(connection: PgConnection, params: unknown[]): Promise<{ rows: unknown[] }> {
    const query = { name: this.name, text: this.text, values: params };
    try {
      return await connection.query(query);
    } catch (error) {
      // A newer release migrated the schema under this connection's statement: prepare it again, once.
      if ((error as { code?: string }).code !== FEATURE_NOT_SUPPORTED) throw error;
      await connection.query(`deallocate "${this.name}"`);
      delete connection.connection?.parsedStatements?.[this.name];
      return connection.query(query);
    }
  }
}

/**
 * Sends one statement with `?` parameters, unprepared, as node-postgres sends a parameterised query
 * (the values travel beside the text, never inlined into it), logged and converted as {@link PreparedRead}
 * does. Inside a transaction it goes through `em.execute` on that transaction's connection.
 */
export function runStatement<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return runOnPool<T>(em, sql, params, (connection) =>
    connection.query({ text: numbered(sql), values: params }),
  );
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * Runs `send` on a connection of the pool (or the statement through `em.execute` inside a transaction),
 * logs it as MikroORM logs a statement and converts a database error as MikroORM converts it.
 */
async function runOnPool<T>(
  em: EntityManager,
  sql: string,
  params: unknown[],
  send: (connection: PgConnection) => Promise<{ rows: unknown[] }>,
): Promise<T[]> {
  if (em.isInTransaction()) return em.execute<T[]>(sql, params, 'all');
  const pool = em.getConnection().getKnex().client as {
    acquireConnection(): Promise<PgConnection>;
    releaseConnection(connection: PgConnection): Promise<unknown>;
  };
  const logger = em.config.getLogger();
  const started = Date.now();
  let connection: PgConnection | null = null;
  try {
    connection = await pool.acquireConnection();
    const { rows } = await send(connection);
    logger.logQuery({ query: sql, params, took: Date.now() - started, results: rows.length });
    return rows as T[];
  } catch (error) {
    logger.logQuery({ query: sql, params, took: Date.now() - started, level: 'error' });
    throw em.getDriver().convertException(error as Error);
  } finally {
    // knex's pool drops a connection that broke (its own listeners mark it) when it is next acquired.
    if (connection) await pool.releaseConnection(connection);
  }
}
