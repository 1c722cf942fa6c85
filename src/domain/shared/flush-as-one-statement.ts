import {
  ChangeSetType,
  Reference,
  ReferenceKind,
  type ChangeSet,
  type EntityProperty,
  type Platform,
} from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DbNotification } from './event-publisher';
import { runStatement } from './prepared-read';

type Row = Record<string, unknown>;

/** Property kinds that are columns of the entity's own table. */
const OWN_COLUMNS: readonly ReferenceKind[] = [
  ReferenceKind.SCALAR,
  ReferenceKind.MANY_TO_ONE,
  ReferenceKind.ONE_TO_ONE,
];

/**
 * Flushes `em`'s unit of work as one SQL statement: each INSERT and UPDATE a flush would send becomes a
 * data-modifying CTE of one `with ... select` (PostgreSQL runs a statement atomically, and checks foreign
 * keys at its end, so the order of the parts does not matter). One round trip instead of BEGIN, one per
 * table and COMMIT, with the same all-or-nothing outcome; inside a transaction it is one statement of it.
 * A unit of work this does not cover (deletes, collection or extra updates, optimistic locking) goes
 * through `em.flush()` unchanged, as does one with a column this cannot write (see {@link writeOf}). The
 * SQL is written here from the entities' metadata, the values sent as parameters beside it: MikroORM's
 * query builder cost more of the event loop than the rest of an upload's work on it. Afterwards the
 * written entities are managed and clean, as after a flush.
 * Nothing is read back: a column an entity leaves undefined takes the database's default without the
 * entity learning it (the project's entities initialise what they default).
 * `notifications` (the events that announce the write) go out in the same statement, so they are
 * delivered when it commits and never when it fails, at no round trip of their own. Returns whether they
 * did; false when the unit of work went through `em.flush()`, and the caller publishes after it.
 */
export async function flushAsOneStatement(
  em: EntityManager,
  notifications: readonly DbNotification[] = [],
): Promise<boolean> {
  const uow = em.getUnitOfWork();
  uow.computeChangeSets();
  const changeSets = uow.getChangeSets();
  const covered =
    changeSets.length > 0 &&
    uow.getCollectionUpdates().length === 0 &&
    uow.getExtraUpdates().size === 0 &&
    changeSets.every(
      (cs) =>
        (cs.type === ChangeSetType.CREATE || cs.type === ChangeSetType.UPDATE) &&
        !cs.meta.versionProperty &&
        // Lifecycle hooks run inside a flush only.
        Object.keys(cs.meta.hooks ?? {}).length === 0,
    );
  const params: unknown[] = [];
  const writes = covered ? changeSets.map((cs) => writeOf(em, cs, params)) : [];
  if (!covered || writes.includes(null)) {
    await em.flush();
    return false;
  }
  const parts = writes.map((w, i) => `"w${i}" as (${w})`);
  let statement: string;
  if (notifications.length) {
    // A plain SELECT in a WITH runs only when the statement reads it: the final SELECT counts its rows.
    // One JSON parameter (knex would expand an array parameter inside a transaction).
    parts.push(`"notified" as (select pg_notify(n->>0, n->>1) from json_array_elements(?::json) as n)`);
    params.push(JSON.stringify(notifications.map((n) => [n.channel, n.payload])));
    statement = `with ${parts.join(', ')} select (select count(*) from "notified") as written`;
  } else statement = writes.length === 1 ? writes[0]! : `with ${parts.join(', ')} select 1 as written`;
  try {
    await runStatement(em, statement, params);
    for (const cs of changeSets)
      uow.register(cs.entity, em.getComparator().prepareEntity(cs.entity), { refresh: true });
  } finally {
    // As after a flush, failed or not: what was queued is not written again by a later flush.
    uow.getPersistStack().clear();
  }
  return true;
}

/**
 * The INSERT of a new entity (its columns that hold a value) or the UPDATE of a changed one (its changed
 * columns, by primary key), with `?` for each value, which goes to `params`; null when a column is one
 * this does not write (a composite key, an embeddable, a value it would have to guess how to store).
 */
function writeOf(em: EntityManager, cs: ChangeSet<object>, params: unknown[]): string | null {
  const { meta } = cs;
  const entity = cs.entity as Row;
  const platform = em.getPlatform();
  const table = meta.schema && meta.schema !== '*' ? `${meta.schema}.${meta.tableName}` : meta.tableName;
  const columns: string[] = [];
  const values: unknown[] = [];
  const add = (prop: EntityProperty<object> | undefined, value: unknown): boolean => {
    // An embeddable's columns keep their values in the embeddable, not on the entity.
    if (!prop || prop.fieldNames?.length !== 1 || prop.embedded || prop.formula) return false;
    const stored = columnValue(platform, prop, value);
    if (stored === UNWRITABLE) return false;
    columns.push(platform.quoteIdentifier(prop.fieldNames[0]!));
    values.push(stored);
    return true;
  };
  if (cs.type === ChangeSetType.CREATE) {
    for (const prop of meta.props) {
      if (prop.persist === false || prop.formula || !OWN_COLUMNS.includes(prop.kind)) continue;
      if (prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner) continue;
      if (prop.embedded) return null;
      if (entity[prop.name] !== undefined && !add(prop, entity[prop.name])) return null;
    }
    params.push(...values);
    return `insert into ${platform.quoteIdentifier(table)} (${columns.join(', ')}) values (${values.map(() => '?').join(', ')})`;
  }
  for (const name of Object.keys(cs.payload))
    if (!add(meta.properties[name as never], entity[name])) return null;
  if (meta.primaryKeys.length !== 1 || columns.length === 0) return null;
  const key = meta.properties[meta.primaryKeys[0] as never] as EntityProperty<object>;
  params.push(...values, entity[key.name]);
  return `update ${platform.quoteIdentifier(table)} set ${columns.map((c) => `${c} = ?`).join(', ')} where ${platform.quoteIdentifier(key.fieldNames[0]!)} = ?`;
}

/** A value that {@link columnValue} does not know how to store. */
const UNWRITABLE = Symbol('unwritable');

/**
 * A property's value as its column takes it: the referenced row's key for a reference, the custom
 * type's database form (JSON as text), and plain scalars, dates and buffers as they are (node-postgres
 * sends them as it sends any parameter). Anything else (an array or object without a type that says
 * how to store it) is {@link UNWRITABLE}.
 */
function columnValue(platform: Platform, prop: EntityProperty<object>, value: unknown): unknown {
  if (value === null) return null;
  if (prop.kind !== ReferenceKind.SCALAR) {
    const target = Reference.unwrapReference(value as object) as Row;
    const keys = prop.targetMeta?.primaryKeys ?? [];
    return keys.length === 1 && target[keys[0]!] !== undefined ? target[keys[0]!] : UNWRITABLE;
  }
  if (prop.customType) return prop.customType.convertToDatabaseValue(value, platform, { mode: 'query-data' });
  if (value instanceof Date || Buffer.isBuffer(value) || typeof value !== 'object') return value;
  return UNWRITABLE;
}
