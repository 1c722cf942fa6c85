import type { Patient } from '../domain/patient/patient.entity';
import { PatientType } from './patient.types';

export const toPatient = (p: Patient): PatientType =>
  Object.assign(new PatientType(), {
    id: p.id,
    mrn: p.mrn,
    givenName: p.givenName,
    familyName: p.familyName,
    birthDate: p.birthDate ?? null,
    sex: p.sex,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  });
