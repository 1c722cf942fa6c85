import type { EntityManager, EntityName, FilterQuery } from '@mikro-orm/postgresql';
import { ValidationError } from '../../errors';

/** Forward pagination arguments (Relay): `first` items after the opaque `after` cursor. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** One page of records in newest-first order, with Relay page info. */
export interface Page<T> {
  items: T[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  totalCount: () => Promise<number>;
}

interface Keyed {
  id: string;
  createdAt: Date;
}

/** Encodes a keyset cursor (createdAt, id); opaque to clients. */
function encodeCursor(record: Keyed): string {
  return Buffer.from(`${record.createdAt.toISOString()}|${record.id}`, 'utf8').toString('base64url');
}

/** Decodes a cursor, rejecting anything that is not one of ours with BAD_USER_INPUT. */
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const [iso, id] = raw.split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) {
    throw new ValidationError('Invalid cursor', { argument: 'after' });
  }
  return { createdAt, id };
}

/**
 * Keyset pagination newest first over (createdAt, id): stable under inserts, one query per page
 * (plus a count only when the client asks for `totalCount`).
 */
export async function paginate<T extends Keyed>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  args: PageArgs,
  maxPage: number,
  defaultPage = 20,
): Promise<Page<T>> {
  const first = args.first ?? defaultPage;
  if (!Number.isInteger(first) || first < 0 || first > maxPage) {
    throw new ValidationError(`first must be between 0 and ${maxPage}`, { argument: 'first', max: maxPage });
  }
  let pageWhere: FilterQuery<T> = where;
  if (args.after) {
    const c = decodeCursor(args.after);
    const keyset = {
      $or: [{ createdAt: { $lt: c.createdAt } }, { createdAt: c.createdAt, id: { $lt: c.id } }],
    } as unknown as FilterQuery<T>;
    pageWhere = { $and: [where, keyset] } as unknown as FilterQuery<T>;
  }
  const rows = await em.find(entity, pageWhere, {
    orderBy: { createdAt: 'desc', id: 'desc' } as never,
    limit: first + 1,
  });
  const items = rows.slice(0, first);
  return {
    items,
    cursors: items.map(encodeCursor),
    hasNextPage: rows.length > first,
    hasPreviousPage: Boolean(args.after),
    totalCount: () => em.count(entity, where),
  };
}
