import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import { compact } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { Correction } from './correction.entity';

/** Reads of radiologists' corrections. */
export class CorrectionRepository extends EntityRepository<Correction> {
  /** A page of corrections newest first, of one prediction when named. */
  findPage(f: { predictionId?: string | null }, page: PageArgs, pageMax: number): Promise<Page<Correction>> {
    const where = compact({ prediction: f.predictionId }) as FilterQuery<Correction>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }

  /** The latest correction of each prediction, by prediction id. */
  async findLatestByPredictions(predictionIds: readonly string[]): Promise<Map<string, Correction>> {
    if (predictionIds.length === 0) return new Map();
    const rows = await this.find(
      { prediction: { $in: [...predictionIds] } },
      { orderBy: { createdAt: 'desc', id: 'desc' } },
    );
    const map = new Map<string, Correction>();
    for (const c of rows) if (!map.has(c.prediction.id)) map.set(c.prediction.id, c);
    return map;
  }

  /** The corrections of one prediction, newest first. */
  findOfPrediction(predictionId: string): Promise<Correction[]> {
    return this.find({ prediction: predictionId }, { orderBy: { createdAt: 'desc' } });
  }

  /** How many corrections were made after `since`. */
  countSince(since: Date): Promise<number> {
    return this.count({ createdAt: { $gt: since } });
  }
}
