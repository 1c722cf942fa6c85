import { createHash } from 'node:crypto';
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

  private run(connection: PgConnection, params: unknown[]): Promise<{ rows: unknown[] }> {
    return runNamed(connection, this.name, this.text, params);
  }
}

/**
 * Sends a named statement, preparing it on this connection the first time; a statement whose plan the
 * schema changed under (a newer release migrated it) is prepared again, once.
 */
async function runNamed(
  connection: PgConnection,
  name: string,
  text: string,
  params: unknown[],
): Promise<{ rows: unknown[] }> {
  const query = { name, text, values: params };
  try {
    return await connection.query(query);
  } catch (error) {
    if ((error as { code?: string }).code !== FEATURE_NOT_SUPPORTED) throw error;
    await connection.query(`deallocate "${name}"`);
    delete connection.connection?.parsedStatements?.[name];
    return connection.query(query);
  }
}

/** Most distinct statement texts {@link runStatement} prepares in one process; any further one is sent unprepared. */
export const MAX_PREPARED_STATEMENTS = 64;
/** The names given so far, by statement text (numbered placeholders). */
const preparedNames = new Map<string, string>();

/**
 * The name a statement is prepared under (from a hash of its text), or null once
 * {@link MAX_PREPARED_STATEMENTS} texts have one: a process never holds more prepared statements per
 * connection than that, whatever shapes its writes take.
 */
function preparedName(text: string): string | null {
  const known = preparedNames.get(text);
  if (known) return known;
  if (preparedNames.size >= MAX_PREPARED_STATEMENTS) return null;
  const name = `cc_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
  preparedNames.set(text, name);
  return name;
}

/**
 * Sends one statement with `?` parameters (the values travel beside the text, never inlined into it),
 * logged and converted as {@link PreparedRead} does. Outside a transaction it is a named prepared
 * statement of its connection, as a {@link PreparedRead} is: the writes of a hot path repeat a few texts,
 * and PostgreSQL then parses and plans each once per connection instead of on every request (about
 * 0.13 ms of planning for an analysis's write). Inside a transaction it goes through `em.execute` on
 * that transaction's connection.
 */
export function runStatement<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const text = numbered(sql);
  const name = em.isInTransaction() ? null : preparedName(text);
  return runOnPool<T>(em, sql, params, (connection) =>
    name ? runNamed(connection, name, text, params) : connection.query({ text, values: params }),
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
