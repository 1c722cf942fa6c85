import { IsOptional, MaxLength } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { AuditAction, Role } from '../domain/enums';
import { DateRangeInput } from './shared.inputs';

@ObjectType('AuditEvent', { description: 'Who did what to which record, when. Append-only.' })
export class AuditEventType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ID, { nullable: true, description: 'User who acted.' })
  actorId!: string | null;

  @Field(() => Role, { nullable: true, description: 'Role the user acted in.' })
  actorRole!: Role | null;

  @Field(() => AuditAction, { description: 'Kind of action.' })
  action!: AuditAction;

  @Field({ description: 'Record type, e.g. Patient, Study.' })
  entityType!: string;

  @Field(() => String, { nullable: true, description: 'Record id.' })
  entityId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Patient whose data was touched.' })
  patientId!: string | null;

  @Field(() => String, { nullable: true, description: 'Request id, for correlating with logs.' })
  requestId!: string | null;

  @Field(() => String, { nullable: true, description: 'GraphQL operation or HTTP route.' })
  operation!: string | null;

  @Field({ description: 'When it happened.' })
  createdAt!: Date;
}

export const AuditEventConnection = Connection(AuditEventType, 'AuditEvent');

@InputType({ description: 'Filters for the audit trail.' })
export class AuditEventFilter {
  @Field(() => ID, { nullable: true, description: 'Only this patient.' })
  @IsOptional()
  patientId?: string;

  @Field(() => ID, { nullable: true, description: 'Only this actor.' })
  @IsOptional()
  actorId?: string;

  @Field(() => AuditAction, { nullable: true, description: 'Only this action.' })
  @IsOptional()
  action?: AuditAction;

  @Field(() => String, { nullable: true, description: 'Only this record type.' })
  @IsOptional()
  @MaxLength(64)
  entityType?: string;

  @Field(() => DateRangeInput, { nullable: true, description: 'Event time.' })
  @IsOptional()
  createdAt?: DateRangeInput;
}
