import { IsOptional, Length, Matches, MaxLength, ValidateBy } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { Sex } from '../domain/enums';
import { CODE, DateRangeInput } from './shared.inputs';

@ObjectType('Patient', { description: 'A patient registered by the hospital. Reading it is audited.' })
export class PatientType {
  @Field(() => ID, { description: 'Stable identifier (not the MRN).' })
  id!: string;

  @Field({ description: 'Medical record number, unique in the hospital.' })
  mrn!: string;

  @Field({ description: 'Given name.' })
  givenName!: string;

  @Field({ description: 'Family name.' })
  familyName!: string;

  @Field(() => String, { nullable: true, description: 'Birth date as YYYY-MM-DD.' })
  birthDate!: string | null;

  @Field(() => Sex, { description: 'Administrative sex.' })
  sex!: Sex;

  @Field({ description: 'When the patient was registered.' })
  createdAt!: Date;

  @Field({ description: 'When the record last changed.' })
  updatedAt!: Date;
}

export const PatientConnection = Connection(PatientType, 'Patient');

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/**
 * Accepts YYYY-MM-DD naming a day that exists, in the years 0001–9999. The pattern alone lets
 * 1980-02-31 through, and the calendar check year 0000 (ISO's 1 BC), both of which PostgreSQL
 * refuses: input it cannot store is refused here, at the edge, as BAD_USER_INPUT.
 */
function IsCalendarDate(): PropertyDecorator {
  return ValidateBy({
    name: 'isCalendarDate',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string' || !DATE.test(value) || value.startsWith('0000')) return false;
        const day = new Date(`${value}T00:00:00Z`);
        return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === value;
      },
      defaultMessage: () => '$property must be an existing date as YYYY-MM-DD',
    },
  });
}

@InputType({ description: 'Registers a patient.' })
export class CreatePatientInput {
  @Field({ description: 'Medical record number; unique.' })
  @Length(1, 64)
  @Matches(CODE, { message: 'mrn may hold letters, digits and . _ - / only' })
  mrn!: string;

  @Field({ description: 'Given name.' })
  @Length(1, 200)
  givenName!: string;

  @Field({ description: 'Family name.' })
  @Length(1, 200)
  familyName!: string;

  @Field(() => String, { nullable: true, description: 'Birth date as YYYY-MM-DD.' })
  @IsOptional()
  @IsCalendarDate()
  birthDate?: string;

  @Field(() => Sex, { nullable: true, description: 'Administrative sex (default UNKNOWN).' })
  @IsOptional()
  sex?: Sex;
}

@InputType({ description: 'Changes to a patient; omitted fields stay as they are.' })
export class UpdatePatientInput {
  @Field(() => String, { nullable: true, description: 'New given name.' })
  @IsOptional()
  @Length(1, 200)
  givenName?: string;

  @Field(() => String, { nullable: true, description: 'New family name.' })
  @IsOptional()
  @Length(1, 200)
  familyName?: string;

  @Field(() => String, { nullable: true, description: 'New birth date as YYYY-MM-DD.' })
  @IsOptional()
  @IsCalendarDate()
  birthDate?: string;

  @Field(() => Sex, { nullable: true, description: 'New administrative sex.' })
  @IsOptional()
  sex?: Sex;
}

@InputType({ description: 'Filters for the patients list.' })
export class PatientFilter {
  @Field(() => String, { nullable: true, description: 'Exact medical record number.' })
  @IsOptional()
  @MaxLength(64)
  mrn?: string;

  @Field(() => String, { nullable: true, description: 'Case-insensitive prefix of the family name.' })
  @IsOptional()
  @Length(1, 200)
  familyNamePrefix?: string;

  @Field(() => DateRangeInput, { nullable: true, description: 'Registration time.' })
  @IsOptional()
  createdAt?: DateRangeInput;
}
