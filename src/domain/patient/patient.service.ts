import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { NotFoundError } from '../../errors';
import { AuditAction, Sex } from '../enums';
import { flushUnique } from '../shared/flush-unique';
import { compact, isUuid } from '../shared/filters';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { Patient } from './patient.entity';
import type { PatientQuery } from './patient.repository';

export type { PatientQuery } from './patient.repository';

/** Fields to register a patient. */
export interface CreatePatient {
  mrn: string;
  givenName: string;
  familyName: string;
  birthDate?: string | null;
  sex?: Sex | null;
}

/** Patients: registration, changes and audited reads. */
export class PatientService {
  constructor(private readonly pageMax: number) {}

  /** Registers a patient; a duplicate MRN is a CONFLICT. */
  async create(ctx: RequestContext, input: CreatePatient): Promise<Patient> {
    assertPermission(ctx.principal, Permission.WRITE_PATIENT_DATA);
    const patient = ctx.em.create(Patient, {
      mrn: input.mrn,
      givenName: input.givenName,
      familyName: input.familyName,
      birthDate: input.birthDate ?? null,
      sex: input.sex ?? Sex.UNKNOWN,
    } as Patient);
    ctx.audit.write(ctx.em, {
      action: AuditAction.CREATE,
      entityType: 'Patient',
      entityId: patient.id,
      patientId: patient.id,
    });
    await flushUnique(ctx.em, 'A patient with this MRN already exists', 'mrn');
    return patient;
  }

  /** Applies changes to a patient. */
  async update(
    ctx: RequestContext,
    id: string,
    changes: Partial<Omit<CreatePatient, 'mrn'>>,
  ): Promise<Patient> {
    assertPermission(ctx.principal, Permission.WRITE_PATIENT_DATA);
    const patient = await this.find(ctx, id);
    ctx.em.assign(patient, compact(changes));
    ctx.audit.write(ctx.em, {
      action: AuditAction.UPDATE,
      entityType: 'Patient',
      entityId: id,
      patientId: id,
    });
    await ctx.em.flush();
    return patient;
  }

  /** Reads one patient (audited). */
  async get(ctx: RequestContext, id: string): Promise<Patient> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const patient = await this.find(ctx, id);
    ctx.audit.read('Patient', patient.id, patient.id);
    return patient;
  }

  /** Lists patients newest first (each one returned is audited). */
  async list(ctx: RequestContext, query: PatientQuery, page: PageArgs): Promise<Page<Patient>> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const result = await ctx.em.getRepository(Patient).findPage(query, page, this.pageMax);
    for (const p of result.items) ctx.audit.read('Patient', p.id, p.id);
    return result;
  }

  /** Loads a patient for a relation (batched) and audits the read. */
  async load(ctx: RequestContext, id: string): Promise<Patient> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const patient = await ctx.loaders.patientById.load(id);
    if (!patient) throw NotFoundError.of('Patient', id);
    ctx.audit.read('Patient', patient.id, patient.id);
    return patient;
  }

  private async find(ctx: RequestContext, id: string): Promise<Patient> {
    const patient = isUuid(id) ? await ctx.em.getRepository(Patient).findOne({ id }) : null;
    if (!patient) throw NotFoundError.of('Patient', id);
    return patient;
  }
}
