import {
  ArrayMaxSize,
  IsEmail,
  IsOptional,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';
import type { IntakeMismatchCode } from '../errors/intake-errors';
import { ArgsType, Field, ID, InputType, Int } from 'type-graphql';
import {
  AuditAction,
  BodyPart,
  GateVerdict,
  ImageView,
  IntakeMismatch,
  ModelStage,
  ModelTask,
  Role,
  Sex,
  StudyPriority,
  StudyStatus,
} from './enums';

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const CODE = /^[A-Za-z0-9._\-/]+$/;

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

@ArgsType()
export class PageArgsInput {
  @Field(() => Int, {
    nullable: true,
    description: 'Page size (default 20, at most the configured page limit).',
  })
  @IsOptional()
  @Min(0)
  first?: number;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor after which the page starts (from pageInfo.endCursor).',
  })
  @IsOptional()
  @MaxLength(200)
  after?: string;
}

@InputType({ description: 'A time interval; either end may be open.' })
export class DateRangeInput {
  @Field(() => Date, { nullable: true, description: 'Inclusive start.' })
  from?: Date;

  @Field(() => Date, { nullable: true, description: 'Exclusive end.' })
  to?: Date;
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

@InputType({ description: 'Registers a study for a patient.' })
export class CreateStudyInput {
  @Field(() => ID, { description: 'Patient id.' })
  patientId!: string;

  @Field(() => BodyPart, { description: 'Anatomy examined.' })
  bodyPart!: BodyPart;

  @Field(() => StudyPriority, { nullable: true, description: 'Reading priority (default ROUTINE).' })
  @IsOptional()
  priority?: StudyPriority;

  @Field({ description: 'Accession number from the RIS; unique.' })
  @Length(1, 64)
  @Matches(CODE, { message: 'accessionNumber may hold letters, digits and . _ - / only' })
  accessionNumber!: string;

  @Field(() => String, { nullable: true, description: 'DICOM Study Instance UID, if known.' })
  @IsOptional()
  @Matches(/^[0-9.]{1,64}$/, { message: 'studyInstanceUid must be a DICOM UID' })
  studyInstanceUid?: string;

  @Field(() => String, { nullable: true, description: 'Free-text description.' })
  @IsOptional()
  @MaxLength(1000)
  description?: string;

  @Field(() => ID, {
    nullable: true,
    description: 'Site (hospital or department) the study belongs to; the default site when omitted.',
  })
  @IsOptional()
  siteId?: string;
}

@InputType({ description: 'Changes to a study; omitted fields stay as they are.' })
export class UpdateStudyInput {
  @Field(() => StudyPriority, { nullable: true, description: 'New priority.' })
  @IsOptional()
  priority?: StudyPriority;

  @Field(() => String, { nullable: true, description: 'New description.' })
  @IsOptional()
  @MaxLength(1000)
  description?: string;
}

@InputType({ description: 'Filters for the studies list.' })
export class StudyFilter {
  @Field(() => ID, { nullable: true, description: 'Only this patient.' })
  @IsOptional()
  patientId?: string;

  @Field(() => ID, { nullable: true, description: 'Only studies of this site.' })
  @IsOptional()
  siteId?: string;

  @Field(() => StudyStatus, { nullable: true, description: 'Only this status.' })
  @IsOptional()
  status?: StudyStatus;

  @Field(() => BodyPart, { nullable: true, description: 'Only this body part.' })
  @IsOptional()
  bodyPart?: BodyPart;

  @Field(() => StudyPriority, { nullable: true, description: 'Only this priority.' })
  @IsOptional()
  priority?: StudyPriority;

  @Field(() => String, { nullable: true, description: 'Exact accession number.' })
  @IsOptional()
  @MaxLength(64)
  accessionNumber?: string;

  @Field(() => DateRangeInput, { nullable: true, description: 'Registration time.' })
  @IsOptional()
  createdAt?: DateRangeInput;

  @Field(() => String, {
    nullable: true,
    description: 'Only studies with a served AI reading whose top-1 class is this (see aiFinding).',
  })
  @IsOptional()
  @MaxLength(64)
  label?: string;

  @Field(() => String, {
    nullable: true,
    description: 'Only studies with a served AI reading that flagged this finding for review.',
  })
  @IsOptional()
  @MaxLength(64)
  aiFinding?: string;

  @Field(() => String, {
    nullable: true,
    description: "Only studies whose radiologist's read in force amounts to this class (e.g. NORMAL).",
  })
  @IsOptional()
  @MaxLength(64)
  finalLabel?: string;

  @Field(() => String, {
    nullable: true,
    description: "Only studies whose radiologist's read in force states this finding present.",
  })
  @IsOptional()
  @MaxLength(64)
  finalFinding?: string;
}

@InputType({ description: 'Attaches an uploaded file to a study.' })
export class AttachImageInput {
  @Field(() => ID, { description: 'Study id.' })
  studyId!: string;

  @Field(() => ID, { description: 'uploadId returned by POST /uploads.' })
  uploadId!: string;

  @Field(() => ImageView, { description: 'Projection of the image.' })
  view!: ImageView;

  @Field(() => IntakeOverrideInput, {
    nullable: true,
    description:
      "Accepts named mismatches of a DICOM file's header with the study (audited); without it a mismatch is refused with its code.",
  })
  @IsOptional()
  override?: IntakeOverrideInput | null;
}

@InputType({
  description:
    "Accepts named mismatches between a DICOM file's header and its study (audited, recorded on the image).",
})
export class IntakeOverrideInput {
  @Field(() => [IntakeMismatch], {
    description: 'Every mismatch to accept; any other still refuses the file.',
  })
  @ArrayMaxSize(6)
  accept!: IntakeMismatchCode[];

  @Field({ description: 'Why the file belongs to this study anyway (at most 1000 characters).' })
  @Length(1, 1000)
  reason!: string;
}

@InputType({
  description: 'Uploads a small image inline (base64) and attaches it; limited by MAX_BASE64_UPLOAD_BYTES.',
})
export class UploadImageBase64Input {
  @Field(() => ID, { description: 'Study id.' })
  studyId!: string;

  @Field(() => ImageView, { description: 'Projection of the image.' })
  view!: ImageView;

  @Field({ description: 'The file, base64-encoded.' })
  dataBase64!: string;

  @Field(() => IntakeOverrideInput, {
    nullable: true,
    description: "Accepts named mismatches of a DICOM file's header with the study (audited).",
  })
  @IsOptional()
  override?: IntakeOverrideInput | null;
}

@InputType({ description: 'Filters for the images list.' })
export class ImageFilter {
  @Field(() => ID, { nullable: true, description: 'Only this study.' })
  @IsOptional()
  studyId?: string;

  @Field(() => ImageView, { nullable: true, description: 'Only this view.' })
  @IsOptional()
  view?: ImageView;
}

@InputType({ description: 'Filters for the predictions list.' })
export class PredictionFilter {
  @Field(() => ID, { nullable: true, description: 'Only this study.' })
  @IsOptional()
  studyId?: string;

  @Field(() => ID, { nullable: true, description: 'Only this patient.' })
  @IsOptional()
  patientId?: string;

  @Field(() => ID, { nullable: true, description: 'Only this model version.' })
  @IsOptional()
  modelVersionId?: string;

  @Field(() => String, { nullable: true, description: 'Only this most-probable label.' })
  @IsOptional()
  @MaxLength(64)
  label?: string;

  @Field(() => GateVerdict, { nullable: true, description: 'Only this gate verdict.' })
  @IsOptional()
  gateVerdict?: GateVerdict;

  @Field(() => DateRangeInput, { nullable: true, description: 'Prediction time.' })
  @IsOptional()
  createdAt?: DateRangeInput;
}

@InputType({ description: 'Filters for the model registry.' })
export class ModelVersionFilter {
  @Field(() => ModelTask, { nullable: true, description: 'Only this task.' })
  @IsOptional()
  task?: ModelTask;

  @Field(() => ModelStage, { nullable: true, description: 'Only this stage.' })
  @IsOptional()
  stage?: ModelStage;
}

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

@InputType({ description: 'Creates a user.' })
export class CreateUserInput {
  @Field({ description: 'Login e-mail; unique.' })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @Field({ description: 'Name shown in the interface.' })
  @Length(1, 200)
  displayName!: string;

  @Field(() => Role, { description: 'Role.' })
  role!: Role;
}

@InputType({ description: 'Mints a token for an existing user.' })
export class IssueTokenInput {
  @Field(() => ID, { description: 'User id.' })
  userId!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Lifetime in seconds (default from configuration, at most 30 days).',
  })
  @IsOptional()
  @Min(60)
  @Max(30 * 24 * 3600)
  ttlSeconds?: number;
}

@InputType({ description: 'A site to register.' })
export class CreateSiteInput {
  @Field({
    description: 'Short stable code: lower-case letters, digits and dashes (e.g. st-marys-radiology).',
  })
  @Length(1, 63)
  code!: string;

  @Field({ description: 'Name shown to users.' })
  @Length(1, 200)
  name!: string;
}

@InputType({
  description: "A study already in the system and its reference label for a site's validation set.",
})
export class SiteValidationStudyInput {
  @Field(() => ID, { description: 'Study id (a study of the site, with a film).' })
  studyId!: string;

  @Field({
    description: "Reference class: one of the study's task classes (chest: NORMAL, PNEUMONIA, TUBERCULOSIS).",
  })
  @Length(1, 64)
  label!: string;
}

@InputType({ description: "Labelled studies to add to a site's validation set." })
export class AddSiteValidationStudiesInput {
  @Field(() => ID, { description: 'Site id.' })
  siteId!: string;

  @Field(() => [SiteValidationStudyInput], { description: 'Studies with their labels (at most 5000).' })
  @ArrayMaxSize(5000)
  items!: SiteValidationStudyInput[];
}
