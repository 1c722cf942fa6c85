import { ValidationError } from '../../errors';

/** An optional time window: from (inclusive) to (exclusive), either end open. */
export type DateRange = { from?: Date | null; to?: Date | null } | null;

/** Translates an optional date range into a MikroORM condition, or undefined when open on both ends. */
export function rangeCondition(range?: DateRange): Record<string, Date> | undefined {
  if (!range || (!range.from && !range.to)) return undefined;
  const condition: Record<string, Date> = {};
  if (range.from) condition.$gte = range.from;
  if (range.to) condition.$lt = range.to;
  return condition;
}

/** Drops keys whose value is undefined, so optional filters do not become `IS NULL`. */
export function compact<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined && v !== null),
  ) as Partial<T>;
}

/** True when the text is a UUID (ids from clients are checked before they reach SQL). */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** Rejects, with BAD_USER_INPUT naming the field, any given id that is not a UUID. */
export function assertIds(ids: Record<string, string | null | undefined>): void {
  for (const [field, value] of Object.entries(ids)) {
    if (value && !isUuid(value)) throw new ValidationError(`${field} is not a valid id`, { field });
  }
}
