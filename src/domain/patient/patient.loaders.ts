import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { byId } from '../shared/batch';
import { Patient } from './patient.entity';

/** Per-request batch loaders of patients. */
export interface PatientLoaders {
  patientById: DataLoader<string, Patient | null>;
}

/** Creates the patient loaders over one request's EntityManager. */
export function createPatientLoaders(em: EntityManager): PatientLoaders {
  return {
    patientById: new DataLoader(async (ids) => byId(await em.getRepository(Patient).findByIds(ids), ids)),
  };
}
