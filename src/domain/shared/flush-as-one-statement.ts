import { ChangeSetType, ReferenceKind, type ChangeSet, type EntityMetadata } from '@mikro-orm/core';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';

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
 * through `em.flush()` unchanged. Afterwards the written entities are managed and clean, as after a flush.
 * Nothing is read back: a column an entity leaves undefined takes the database's default without the
 * entity learning it (the project's entities initialise what they default).
 */
export async function flushAsOneStatement(em: EntityManager): Promise<void> {
  const uow = em.getUnitOfWork();
  uow.computeChangeSets();
  const changeSets = uow.getChangeSets();
  const covered =
    changeSets.length > 0 &&
    uow.getCollectionUpdates().length === 0 &&
    uow.getExtraUpdates().size === 0 &&
    changeSets.every(
      (cs) =>
        (cs.type === ChangeSetType.CREATE || cs.type === ChangeSetType.UPDATE) && !cs.meta.versionProperty,
    );
  if (!covered) return em.flush();
  const knex = em.getKnex();
  const writes = changeSets.map((cs) => writeOf(em, cs));
  const statement =
    writes.length === 1
      ? writes[0]!
      : writes.reduce((q, w, i) => q.with(`w${i}`, w), knex.queryBuilder()).select(knex.raw('1 as written'));
  try {
    await em.execute(statement);
    for (const cs of changeSets)
      uow.register(cs.entity, em.getComparator().prepareEntity(cs.entity), { refresh: true });
  } finally {
    // As after a flush, failed or not: what was queued is not written again by a later flush.
    uow.getPersistStack().clear();
  }
}

/** The INSERT of a new entity or the UPDATE of a changed one (its changed columns), by primary key. */
function writeOf(em: EntityManager, cs: ChangeSet<object>): Knex.QueryBuilder {
  const entity = cs.entity as Row;
  const qb = em.createQueryBuilder(cs.meta.className);
  if (cs.type === ChangeSetType.CREATE) return qb.insert(columnsOf(cs.meta, entity)).getKnexQuery();
  const changed: Row = {};
  for (const name of Object.keys(cs.payload)) changed[name] = entity[name];
  const key: Row = {};
  for (const pk of cs.meta.primaryKeys) key[pk] = entity[pk];
  return qb.update(changed).where(key).getKnexQuery();
}

/** An entity's own columns (scalars and owned references) that hold a value, by property name. */
function columnsOf(meta: EntityMetadata<object>, entity: Row): Row {
  const data: Row = {};
  for (const prop of meta.props) {
    if (prop.persist === false || !OWN_COLUMNS.includes(prop.kind)) continue;
    if (prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner) continue;
    if (entity[prop.name] !== undefined) data[prop.name] = entity[prop.name];
  }
  return data;
}
