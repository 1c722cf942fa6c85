import { IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';

const UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

@ObjectType('PacsStudy', { description: 'A study found on the PACS with QIDO-RS.' })
export class PacsStudyType {
  @Field({ description: 'DICOM Study Instance UID.' })
  studyInstanceUid!: string;

  @Field({ description: 'DICOM Patient ID (becomes the patient MRN on import).' })
  patientId!: string;

  @Field({ description: 'DICOM Accession Number (may be empty).' })
  accessionNumber!: string;

  @Field({ description: 'DICOM Study Date (YYYYMMDD; may be empty).' })
  studyDate!: string;

  @Field(() => [String], { description: 'Modalities in the study (CR, DX, SR...).' })
  modalities!: string[];

  @Field(() => Int, { nullable: true, description: 'Number of instances, when the PACS says.' })
  numberOfInstances!: number | null;

  @Field(() => [ID], { description: 'Our studies with this Study Instance UID (empty: not imported yet).' })
  studyIds!: string[];
}

@ObjectType('DicomInstanceOutcome', {
  description: 'What became of one DICOM instance offered for ingestion.',
})
export class DicomInstanceOutcomeType {
  @Field(() => String, {
    nullable: true,
    description: 'SOP Instance UID (null when the header was unreadable).',
  })
  sopInstanceUid!: string | null;

  @Field({ description: 'STORED, ALREADY_STORED (idempotent re-ingest) or FAILED.' })
  status!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Why it failed: a stable code such as CORRUPT_IMAGE or PATIENT_ID_MISSING.',
  })
  code!: string | null;

  @Field(() => Int, { nullable: true, description: 'DICOM STOW-RS failure reason (e.g. 0xC000 = 49152).' })
  failureReason!: number | null;

  @Field(() => ID, { nullable: true, description: 'Our study the instance belongs to.' })
  studyId!: string | null;
}

@ObjectType('DicomImport', { description: 'Result of importing one study from the PACS.' })
export class DicomImportType {
  @Field({ description: 'DICOM Study Instance UID that was retrieved.' })
  studyInstanceUid!: string;

  @Field(() => Int, { description: 'Instances newly stored.' })
  stored!: number;

  @Field(() => Int, { description: 'Instances that were already here (nothing duplicated).' })
  alreadyStored!: number;

  @Field(() => Int, { description: 'Instances refused.' })
  failed!: number;

  @Field(() => [ID], { description: 'Our studies that hold the imported instances.' })
  studyIds!: string[];

  @Field(() => [DicomInstanceOutcomeType], { description: 'Per-instance outcome.' })
  instances!: DicomInstanceOutcomeType[];
}

@ObjectType('DicomExport', {
  description: 'An AI result report stored on the PACS as a DICOM Structured Report.',
})
export class DicomExportType {
  @Field(() => ID, { description: 'The exported prediction.' })
  predictionId!: string;

  @Field({ description: 'Study the report was added to (the source study).' })
  studyInstanceUid!: string;

  @Field({ description: 'Series Instance UID of the report.' })
  seriesInstanceUid!: string;

  @Field({ description: 'SOP Instance UID of the report (the same on every export of this prediction).' })
  sopInstanceUid!: string;

  @Field({ description: 'SOP Class UID (Comprehensive SR Storage).' })
  sopClassUid!: string;
}

@InputType({ description: 'QIDO-RS match keys for a PACS study search; omitted keys match everything.' })
export class PacsStudyFilterInput {
  @Field(() => String, { nullable: true, description: 'DICOM Patient ID.' })
  @IsOptional()
  @MaxLength(64)
  patientId?: string;

  @Field(() => String, { nullable: true, description: 'DICOM Study Instance UID.' })
  @IsOptional()
  @Matches(UID, { message: 'studyInstanceUid must be a DICOM UID' })
  @MaxLength(64)
  studyInstanceUid?: string;

  @Field(() => String, { nullable: true, description: 'DICOM Accession Number.' })
  @IsOptional()
  @MaxLength(16)
  accessionNumber?: string;

  @Field(() => String, { nullable: true, description: 'Study Date, YYYYMMDD or a range YYYYMMDD-YYYYMMDD.' })
  @IsOptional()
  @Matches(/^(\d{8})?(-(\d{8})?)?$/, { message: 'studyDate must be YYYYMMDD or a range' })
  studyDate?: string;

  @Field(() => String, { nullable: true, description: 'A modality in the study (CR, DX...).' })
  @IsOptional()
  @Matches(/^[A-Z]{2,4}$/, { message: 'modality must be a DICOM modality code' })
  modality?: string;

  @Field(() => Int, { nullable: true, description: 'Most studies returned (1..200, default 50).' })
  @IsOptional()
  @Min(1)
  @Max(200)
  limit?: number;
}

/** DICOM UID syntax for arguments. */
export const DICOM_UID = UID;
