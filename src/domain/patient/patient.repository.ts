import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import { compact, type DateRange, rangeCondition } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { Patient } from './patient.entity';

/** Filters for listing patients. */
export interface PatientQuery {
  mrn?: string | null;
  familyNamePrefix?: string | null;
  createdAt?: DateRange;
}

/** Reads of patients. */
export class PatientRepository extends EntityRepository<Patient> {
  /** The patients with these ids (any order; missing ones left out). */
  findByIds(ids: readonly string[]): Promise<Patient[]> {
    return this.find({ id: { $in: [...ids] } });
  }

  /** A page of patients newest first, by MRN, family-name prefix (LIKE wildcards escaped) and time. */
  findPage(query: PatientQuery, page: PageArgs, pageMax: number): Promise<Page<Patient>> {
    const where = compact({
      mrn: query.mrn ?? undefined,
      familyName: query.familyNamePrefix
        ? { $ilike: `${query.familyNamePrefix.replace(/[%_\\]/g, '\\$&')}%` }
        : undefined,
      createdAt: rangeCondition(query.createdAt),
    }) as FilterQuery<Patient>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }

  /** The patient with this MRN, or null. */
  findByMrn(mrn: string): Promise<Patient | null> {
    return this.findOne({ mrn });
  }
}
