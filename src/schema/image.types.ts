import { ArrayMaxSize, IsOptional, Length } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import type { IntakeMismatchCode } from '../errors/intake-errors';
import { Connection } from './connection';
import { ImageFormat, ImageView } from '../domain/enums';
import { IntakeMismatch } from './graphql-enums';

@ObjectType('Image', { description: 'A radiograph attached to a study. Pixels live in the object store.' })
export class ImageType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  studyId!: string;

  @Field(() => ImageView, { description: 'Projection.' })
  view!: ImageView;

  @Field(() => ImageFormat, { description: 'File format as uploaded.' })
  format!: ImageFormat;

  @Field(() => Int, { description: 'Columns in pixels.' })
  width!: number;

  @Field(() => Int, { description: 'Rows in pixels.' })
  height!: number;

  @Field(() => Int, { description: 'Bits stored per pixel (8 for JPEG, up to 16 for PNG and DICOM).' })
  bitsStored!: number;

  @Field({ description: 'Photometric interpretation (MONOCHROME1, MONOCHROME2, RGB).' })
  photometric!: string;

  @Field(() => String, { nullable: true, description: 'DICOM transfer syntax UID, for DICOM files.' })
  transferSyntaxUid!: string | null;

  @Field({ description: 'SHA-256 of the file as uploaded (hex).' })
  sha256!: string;

  @Field(() => Int, { description: 'File size in bytes.' })
  sizeBytes!: number;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Selected DICOM attributes (modality, body part, view position, UIDs, rescale, window); no patient identifiers.',
  })
  dicomAttributes!: Record<string, unknown> | null;

  @Field({ description: 'Path of the file on this API (GET with the same bearer token).' })
  url!: string;

  @Field(() => IntakeOverrideType, {
    nullable: true,
    description: "Set when the file's DICOM header disagreed with the study and the mismatch was accepted.",
  })
  intakeOverride!: IntakeOverrideType | null;

  @Field({ description: 'When the image was attached.' })
  createdAt!: Date;
}

@ObjectType('IntakeOverride', {
  description: "Mismatches of a DICOM file's header with its study that the uploader accepted explicitly.",
})
export class IntakeOverrideType {
  @Field(() => [String], { description: 'The mismatches accepted (IntakeMismatch values).' })
  accepted!: string[];

  @Field({ description: 'Why the uploader accepted them.' })
  reason!: string;

  @Field(() => ID, { description: 'Who accepted them.' })
  userId!: string;

  @Field({ description: 'When.' })
  at!: Date;
}

@ObjectType('UploadReceipt', { description: 'A validated file waiting to be attached to a study.' })
export class UploadReceiptType {
  @Field(() => ID, { description: 'Pass this to attachImage.' })
  uploadId!: string;

  @Field({ description: 'SHA-256 of the file (hex).' })
  sha256!: string;

  @Field(() => ImageFormat, { description: 'Detected format.' })
  format!: ImageFormat;

  @Field(() => Int, { description: 'Columns in pixels.' })
  width!: number;

  @Field(() => Int, { description: 'Rows in pixels.' })
  height!: number;

  @Field(() => Int, { description: 'Bits stored per pixel.' })
  bitsStored!: number;
}

export const ImageConnection = Connection(ImageType, 'Image');

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
