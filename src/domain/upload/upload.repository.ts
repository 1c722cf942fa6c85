import { EntityRepository } from '@mikro-orm/postgresql';
import type { Upload } from './upload.entity';

/** Reads of staged uploads, and the removal of those never attached. */
export class UploadRepository extends EntityRepository<Upload> {
  /** Uploads never attached and staged before `cutoff`, oldest first, at most `limit`. */
  findUnattachedBefore(cutoff: Date, limit: number): Promise<Upload[]> {
    return this.find(
      { attachedAt: null, createdAt: { $lt: cutoff } },
      { limit, orderBy: { createdAt: 'asc' } },
    );
  }

  /** How many uploads use a stored object. */
  countByObjectKey(objectKey: string): Promise<number> {
    return this.count({ objectKey });
  }

  /** Deletes those of these uploads still unattached (one attached meanwhile stays); returns how many. */
  deleteUnattached(ids: string[]): Promise<number> {
    return this.nativeDelete({ id: { $in: ids }, attachedAt: null });
  }
}
