import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { PatientService } from '../domain/patient/patient.service';
import { StudyService } from '../domain/study/study.service';
import { PageArgsInput, toConnection } from '../schema/connection';
import { toPatient } from '../schema/patient.mappers';
import {
  CreatePatientInput,
  PatientConnection,
  PatientFilter,
  PatientType,
  UpdatePatientInput,
} from '../schema/patient.types';
import { toStudy } from '../schema/study.mappers';
import { StudyConnection } from '../schema/study.types';
import type { GraphQLContext } from './context';

/** Patients: registration and audited reads. */
@Resolver(() => PatientType)
export class PatientResolver {
  constructor(
    private readonly patientsService: PatientService,
    private readonly studiesService: StudyService,
  ) {}

  @Query(() => PatientType, { description: 'One patient by id. Audited.' })
  async patient(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
  ): Promise<PatientType> {
    return toPatient(await this.patientsService.get(ctx, id));
  }

  @Query(() => PatientConnection, { description: 'Patients, newest first. Audited.' })
  async patients(
    @Ctx() ctx: GraphQLContext,
    @Args() page: PageArgsInput,
    @Arg('filter', () => PatientFilter, { nullable: true, description: 'Filters; all records when omitted.' })
    filter?: PatientFilter,
  ): Promise<InstanceType<typeof PatientConnection>> {
    return toConnection(
      PatientConnection,
      await this.patientsService.list(ctx, filter ?? {}, page),
      toPatient,
    );
  }

  @Mutation(() => PatientType, { description: 'Registers a patient (technicians).' })
  async createPatient(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', { description: 'Fields to set.' }) input: CreatePatientInput,
  ): Promise<PatientType> {
    return toPatient(await this.patientsService.create(ctx, input));
  }

  @Mutation(() => PatientType, { description: 'Changes a patient (technicians).' })
  async updatePatient(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { description: 'Record id.' }) id: string,
    @Arg('input', { description: 'Fields to set.' }) input: UpdatePatientInput,
  ): Promise<PatientType> {
    return toPatient(await this.patientsService.update(ctx, id, input));
  }

  @FieldResolver(() => StudyConnection, { description: "The patient's studies, newest first." })
  async studies(
    @Ctx() ctx: GraphQLContext,
    @Root() patient: PatientType,
    @Args() page: PageArgsInput,
  ): Promise<InstanceType<typeof StudyConnection>> {
    return toConnection(
      StudyConnection,
      await this.studiesService.list(ctx, { patientId: patient.id }, page),
      toStudy,
    );
  }
}
