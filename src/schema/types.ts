import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import {
  AnalysisJobStatus,
  AuditAction,
  BodyPart,
  DriftAlertStatus,
  DriftWindowKind,
  GateVerdict,
  ImageFormat,
  ImageView,
  ModelStage,
  ModelTask,
  NoteAudience,
  NoteSource,
  NoteStatus,
  ReadingOutcome,
  Role,
  Sex,
  StudyPriority,
  StudyStatus,
  TrainingRunStatus,
} from './enums';
import { Connection } from './connection';

@ObjectType('User', { description: 'A person or integration client that holds tokens.' })
export class UserType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field({ description: 'Login e-mail address.' })
  email!: string;

  @Field({ description: 'Name shown in the interface.' })
  displayName!: string;

  @Field(() => Role, { description: 'Role that decides what this user may do.' })
  role!: Role;

  @Field({ description: 'False once deactivated; tokens of inactive users are refused.' })
  active!: boolean;

  @Field(() => [String], {
    description:
      "What the user's role may do (the policy table's permissions), e.g. for a front-end to show only that.",
  })
  permissions!: string[];

  @Field({ description: 'When the user was created.' })
  createdAt!: Date;
}

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

@ObjectType('Finding', { description: 'A condition flagged at the model operating point.' })
export class FindingType {
  @Field({ description: 'Condition label, e.g. PNEUMONIA.' })
  label!: string;

  @Field(() => Float, { description: 'Calibrated probability.' })
  probability!: number;

  @Field(() => Float, { description: 'Operating-point threshold chosen for recall.' })
  threshold!: number;
}

@ObjectType('FindingAssessment', {
  description: 'One finding of the task against its operating point: what decides whether it is flagged.',
})
export class FindingAssessmentType {
  @Field({ description: 'Finding label, e.g. PNEUMONIA.' })
  label!: string;

  @Field(() => Float, { description: 'Calibrated probability of the finding.' })
  probability!: number;

  @Field(() => Float, { description: 'Operating point (recall-first threshold) used by this reading.' })
  threshold!: number;

  @Field({ description: 'True when the probability reached the operating point.' })
  flagged!: boolean;
}

@ObjectType('PredictionInput', {
  description:
    "One image a prediction read, by id and content hash; for models that read each view on its own (wrist v2), also that view's own reading.",
})
export class PredictionInputType {
  @Field(() => ID, { description: 'Image id.' })
  imageId!: string;

  @Field({ description: 'SHA-256 of the file read (hex).' })
  sha256!: string;

  @Field(() => ImageView, { description: 'Projection of the image read.' })
  view!: ImageView;

  // This view's own reading (per-view models only; null otherwise), exposed by PredictionInputResolver
  // field resolvers, which need READ_PREDICTIONS.
  gateVerdict!: GateVerdict | null;

  probability!: number | null;

  flagged!: boolean | null;

  heatmapUrl!: string | null;
}

@ObjectType('ClassProbability', { description: 'Calibrated probability of one class.' })
export class ClassProbabilityType {
  @Field({ description: 'Class label.' })
  label!: string;

  @Field(() => Float, { description: 'Calibrated probability (0..1).' })
  probability!: number;
}

@ObjectType('Prediction', {
  description: 'An AI reading of a study. AI assistance: requires clinician review.',
})
export class PredictionType {
  // Clinical content (outcome, flagged, assessments, label, probabilities, findings, heatmapUrl) is
  // held here by the mapper and exposed by PredictionResolver field resolvers, which need
  // READ_PREDICTIONS: a role that reads the record without it gets FORBIDDEN on those fields alone.
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  studyId!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'Model version that made this reading (see modelVersions and modelLineage).',
  })
  modelVersionId!: string | null;

  @Field(() => GateVerdict, {
    description: 'Input gate verdict; anything but ACCEPTED means no diagnosis was made.',
  })
  gateVerdict!: GateVerdict;

  outcome!: ReadingOutcome | null;

  flagged!: boolean | null;

  assessments!: FindingAssessmentType[] | null;

  label!: string | null;

  probabilities!: ClassProbabilityType[] | null;

  findings!: FindingType[] | null;

  @Field(() => [PredictionInputType], {
    description: 'The images read, by id and SHA-256, in the order the model took them.',
  })
  inputs!: PredictionInputType[];

  @Field(() => ID, {
    nullable: true,
    description: 'The earlier reading of the same study this one re-read (analyzeStudy with reread: true).',
  })
  rereadOfId!: string | null;

  heatmapUrl!: string | null;

  @Field({
    description:
      "True when this reading used an operating point validated on its site's own films (an approved site operating point); false: the model's shipped operating point, not validated at this site.",
  })
  siteValidated!: boolean;

  siteOperatingPointId!: string | null;

  @Field(() => GraphQLJSONObject, {
    description: 'Timings in milliseconds (decode, queue, inference, total).',
  })
  timings!: Record<string, number>;

  @Field({
    description:
      "PRODUCTION, CANARY, SHADOW, or SITE_HOLD (the study's site keeps its previous version: PRODUCTION has not passed the site's rollout gate).",
  })
  route!: string;

  @Field({ description: 'The standing notice that this is AI assistance requiring clinician review.' })
  warning!: string;

  @Field(() => String, { nullable: true, description: 'Plain explanation, e.g. why an input was refused.' })
  explanation!: string | null;

  @Field({ description: 'When the prediction was made.' })
  createdAt!: Date;
}

@ObjectType('Correction', { description: "A radiologist's correction of a prediction." })
export class CorrectionType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  predictionId!: string;

  @Field({ description: 'The label the radiologist read.' })
  label!: string;

  @Field(() => String, { nullable: true, description: 'Comment from the radiologist.' })
  comment!: string | null;

  @Field(() => ID, { nullable: true, description: 'User who made the correction.' })
  createdById!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The model's label at the time (null when the input gate refused the study).",
  })
  predictedLabel!: string | null;

  @Field(() => ID, { nullable: true, description: 'Model version that made the corrected prediction.' })
  modelVersionId!: string | null;

  @Field(() => Int, { description: 'De-identified copies written to the retraining area.' })
  retrainingCopies!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Why no retraining copy was made (error code), or null.',
  })
  retrainingExcludedReason!: string | null;

  @Field({ description: 'When the correction was made.' })
  createdAt!: Date;
}

@ObjectType('ClinicalNote', {
  description: 'A drafted note about a prediction; released only after approval.',
})
export class ClinicalNoteType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ID, { description: 'The prediction the note is about.' })
  predictionId!: string;

  @Field(() => NoteAudience, { description: 'Who the note is for.' })
  audience!: NoteAudience;

  @Field({ description: 'Language tag, e.g. en.' })
  language!: string;

  @Field({ description: 'Note text.' })
  body!: string;

  @Field(() => NoteStatus, { description: 'DRAFT until a radiologist approves it.' })
  status!: NoteStatus;

  @Field({ description: 'Which generator wrote the draft.' })
  backend!: string;

  @Field(() => GraphQLJSONObject, {
    description:
      'Safety report of the draft: passed, checks [{name, passed, detail}], ungroundedConditions, readability {metric, score, target, words, sentences, syllables}.',
  })
  safetyChecks!: Record<string, unknown>;

  @Field({ description: 'True when the draft passed every safety check; only such a draft can be approved.' })
  releasable!: boolean;

  @Field(() => NoteSource, {
    description: "What the note was drafted from: the AI findings or the radiologist's read.",
  })
  source!: NoteSource;

  @Field(() => [String], { description: 'The conditions the note states as present.' })
  statedFindings!: string[];

  @Field(() => Date, {
    nullable: true,
    description: 'When a later read or correction invalidated the note (status INVALIDATED).',
  })
  invalidatedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the note was invalidated.' })
  invalidationReason!: string | null;

  @Field(() => [String], {
    description:
      'Names of the failed checks (WELL_FORMED, GROUNDED_CONDITIONS, UNCERTAINTY_STATED, CLINICIAN_REVIEW_STATED, READABILITY).',
  })
  failedChecks!: string[];

  @Field({ description: 'The notice every AI output carries.' })
  warning!: string;

  @Field(() => Date, { nullable: true, description: 'When the note was approved.' })
  approvedAt!: Date | null;

  @Field({ description: 'When the draft was written.' })
  createdAt!: Date;
}

@ObjectType('NoteDraftChunk', {
  description: 'A piece of a note draft as it is written (generateNote), or the end of the draft.',
})
export class NoteDraftChunkType {
  @Field(() => ID, { description: 'Id the note has (or would have had) once stored.' })
  noteId!: string;

  @Field(() => ID, { description: 'The prediction the note is about.' })
  predictionId!: string;

  @Field(() => Int, {
    description:
      'Position of this piece, from 0. Delivery order may differ, so sort by it; the last event (done) has the sequence that equals the number of pieces before it, so a client knows when it has them all.',
  })
  sequence!: number;

  @Field({ description: 'Text of this piece (empty on the last event).' })
  text!: string;

  @Field({ description: 'True on the last event of a draft.' })
  done!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'On the last event: the error code when no draft was stored (e.g. NOTE_BACKEND_TIMEOUT).',
  })
  error!: string | null;
}

@ObjectType('ModelVersion', { description: 'A registered model version and its rollout stage.' })
export class ModelVersionType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ModelTask, { description: 'Reading task.' })
  task!: ModelTask;

  @Field({ description: 'Version label, matching models/<task>/<version>/.' })
  version!: string;

  @Field(() => ModelStage, { description: 'Rollout stage.' })
  stage!: ModelStage;

  @Field(() => Float, { description: 'Share of studies routed here while CANARY (0..1).' })
  trafficShare!: number;

  @Field({ description: 'Folder holding model.onnx and model.json.' })
  artifactPath!: string;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the training data manifest.' })
  manifestSha256!: string | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Evaluation metrics recorded at registration.',
  })
  metrics!: Record<string, unknown> | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When it was last promoted (to CANARY or PRODUCTION, or restored by a rollback).',
  })
  promotedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'Version it was trained from (fine-tuned or retrained).' })
  parentId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Training run that produced it.' })
  trainingRunId!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'PRODUCTION version it replaced when promoted; a rollback restores that one.',
  })
  previousProductionId!: string | null;

  @Field({ description: 'When it was registered.' })
  createdAt!: Date;
}

@ObjectType('TrainingRun', { description: 'A training run with parameters, lineage and gate verdict.' })
export class TrainingRunType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ModelTask, { description: 'Reading task trained.' })
  task!: ModelTask;

  @Field(() => TrainingRunStatus, { description: 'State of the run.' })
  status!: TrainingRunStatus;

  @Field(() => GraphQLJSONObject, { description: 'Hyper-parameters and options.' })
  parameters!: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: 'Code version (git revision) that trained.' })
  codeVersion!: string | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 of the dataset manifest.' })
  manifestSha256!: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Counts per split and label.' })
  datasetCounts!: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Evaluation metrics.' })
  metrics!: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Recall gate verdict and its numbers.' })
  gateVerdict!: Record<string, unknown> | null;

  @Field(() => Date, { nullable: true, description: 'When training started.' })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When training finished.' })
  finishedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Failure reason, if it failed.' })
  error!: string | null;

  @Field({ description: 'What started it: MANUAL (an admin), AUTO (new corrections) or CLI.' })
  trigger!: string;

  @Field(() => String, { nullable: true, description: 'Where the trainer ran: local or ray.' })
  runner!: string | null;

  @Field(() => String, { nullable: true, description: 'Version label the candidate gets when registered.' })
  candidateVersion!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Step reached while running: ASSEMBLING, TRAINING, EVALUATING, REGISTERING.',
  })
  phase!: string | null;

  @Field(() => Int, { description: 'Corrections included in the dataset.' })
  correctionsUsed!: number;

  @Field({ description: 'When the run was requested.' })
  createdAt!: Date;
}

@ObjectType('DriftAlert', {
  description: 'A detected shift between production inputs/outputs and the reference.',
})
export class DriftAlertType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => ID, { nullable: true, description: 'Model version whose reference was used.' })
  modelVersionId!: string | null;

  @Field({ description: 'Signal that drifted, e.g. embedding, confidence, predicted_class.' })
  signal!: string;

  @Field({ description: 'Test used, e.g. MMD, PSI, KS.' })
  statistic!: string;

  @Field(() => Float, { description: 'Value of the statistic.' })
  value!: number;

  @Field(() => Float, { nullable: true, description: 'p-value where the test gives one.' })
  pValue!: number | null;

  @Field(() => Float, { description: 'Threshold that was crossed.' })
  threshold!: number;

  @Field({ description: 'Start of the window.' })
  windowStart!: Date;

  @Field({ description: 'End of the window.' })
  windowEnd!: Date;

  @Field(() => Int, { description: 'Number of predictions in the window.' })
  windowSize!: number;

  @Field(() => DriftWindowKind, { description: 'How the window was cut.' })
  windowKind!: DriftWindowKind;

  @Field(() => DriftAlertStatus, { description: 'Alert state.' })
  status!: DriftAlertStatus;

  @Field({ description: 'When the alert was raised.' })
  createdAt!: Date;
}

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

@ObjectType('IssuedToken', { description: 'A freshly minted bearer token. Shown once; store it safely.' })
export class IssuedTokenType {
  @Field({ description: 'The bearer token.' })
  token!: string;

  @Field({ description: 'When it expires.' })
  expiresAt!: Date;

  @Field(() => UserType, { description: 'Whom it was issued to.' })
  user!: UserType;
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

@ObjectType('StudyFailure', { description: 'Why one study of a batch job failed.' })
export class StudyFailureType {
  @Field(() => ID, { description: 'Study id.' })
  studyId!: string;

  @Field({ description: 'Error code, e.g. WRIST_VIEWS_REQUIRED.' })
  code!: string;
}

@ObjectType('StudyResult', { description: 'The prediction one study of a batch job got.' })
export class StudyResultType {
  @Field(() => ID, { description: 'Study id.' })
  studyId!: string;

  @Field(() => ID, { description: 'Prediction id.' })
  predictionId!: string;
}

@ObjectType('AnalysisJob', { description: 'A batch of studies submitted for analysis, with its progress.' })
export class AnalysisJobType {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => AnalysisJobStatus, { description: 'State of the job.' })
  status!: AnalysisJobStatus;

  @Field(() => [ID], { description: 'Studies in the job.' })
  studyIds!: string[];

  @Field(() => Int, { description: 'Number of studies.' })
  total!: number;

  @Field(() => Int, { description: 'Studies analysed so far.' })
  completed!: number;

  @Field(() => Int, { description: 'Studies that failed.' })
  failed!: number;

  @Field(() => [StudyFailureType], { description: 'Per-study failure codes.' })
  failures!: StudyFailureType[];

  @Field(() => [StudyResultType], {
    description: 'Per-study results: the prediction of each study analysed so far (reused when unchanged).',
  })
  results!: StudyResultType[];

  @Field({ description: 'When the job was submitted.' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the last study finished.' })
  finishedAt!: Date | null;
}

export const PatientConnection = Connection(PatientType, 'Patient');
export const StudyConnection = Connection(StudyType, 'Study');
export const ImageConnection = Connection(ImageType, 'Image');
export const PredictionConnection = Connection(PredictionType, 'Prediction');
export const CorrectionConnection = Connection(CorrectionType, 'Correction');
export const ClinicalNoteConnection = Connection(ClinicalNoteType, 'ClinicalNote');
export const ModelVersionConnection = Connection(ModelVersionType, 'ModelVersion');
export const TrainingRunConnection = Connection(TrainingRunType, 'TrainingRun');
export const DriftAlertConnection = Connection(DriftAlertType, 'DriftAlert');
export const AuditEventConnection = Connection(AuditEventType, 'AuditEvent');
export const UserConnection = Connection(UserType, 'User');
