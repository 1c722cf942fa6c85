import { EntityRepository } from '@mikro-orm/postgresql';
import type { Patient } from './patient.entity';

/** Reads of patients. */
export class PatientRepository extends EntityRepository<Patient> {
  /** The patients with these ids (any order; missing ones left out). */
  findByIds(ids: readonly string[]): Promise<Patient[]> {
    return this.find({ id: { $in: [...ids] } });
  }
}
