import { IsOptional, Length, Matches, MaxLength } from 'class-validator';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Connection } from './connection';
import { BodyPart, StudyPriority, StudyStatus } from '../domain/enums';
import { CODE, DateRangeInput } from './shared.inputs';

@ObjectType('Study', { description: 'One imaging examination of one patient.' })
export class StudyType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  patientId!: string;

  @Field(() => ID, { description: 'The site (hospital or department) it belongs to (see sites).' })
  siteId!: string;

  @Field(() => BodyPart, { description: 'Anatomy examined.' })
  bodyPart!: BodyPart;

  @Field(() => StudyPriority, { description: 'Reading priority.' })
  priority!: StudyPriority;

  @Field(() => StudyStatus, { description: 'Where the study is in its lifecycle.' })
  status!: StudyStatus;

  @Field({ description: 'Accession number assigned by the RIS; unique.' })
  accessionNumber!: string;

  @Field(() => String, { nullable: true, description: 'DICOM Study Instance UID when known.' })
  studyInstanceUid!: string | null;

  @Field(() => String, { nullable: true, description: 'Free-text description from the order.' })
  description!: string | null;

  @Field({ description: 'When the study was registered.' })
  createdAt!: Date;

  @Field({ description: 'When the study last changed.' })
  updatedAt!: Date;
}

@ObjectType('StudyEvent', { description: 'Something happened to a study.' })
export class StudyEventType {
  @Field({
    description:
      'CREATED, UPDATED, IMAGE_ATTACHED, ANALYZED, REVIEW_STARTED, FINAL_READ_SIGNED or READ_AMENDED.',
  })
  change!: string;

  @Field(() => StudyType, { description: 'The study as it is now.' })
  study!: StudyType;
}

export const StudyConnection = Connection(StudyType, 'Study');

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
