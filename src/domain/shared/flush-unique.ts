import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ConflictError } from '../../errors';

/** Flushes the unit of work; a unique-constraint violation becomes a CONFLICT naming the field. */
export async function flushUnique(em: EntityManager, message: string, field: string): Promise<void> {
  try {
    await em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException)
      throw new ConflictError(message, { field }, { cause: error });
    throw error;
  }
}
