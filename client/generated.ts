/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date-time string at UTC, such as 2007-12-03T10:15:30Z, compliant with the `date-time` format outlined in section 5.6 of the RFC 3339 profile of the ISO 8601 standard for representation of dates and times using the Gregorian calendar.This scalar is serialized to a string in ISO 8601 format and parsed from a string in ISO 8601 format. */
  DateTimeISO: { input: string; output: string; }
  /** The `JSONObject` scalar type represents JSON objects as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf). */
  JSONObject: { input: Record<string, unknown>; output: Record<string, unknown>; }
};

/** Labelled studies to add to a site's validation set. */
export type AddSiteValidationStudiesInput = {
  /** Studies with their labels (at most 5000). */
  items: Array<SiteValidationStudyInput>;
  /** Site id. */
  siteId: Scalars['ID']['input'];
};

/** An amendment of the signed final read. */
export type AmendFinalReadInput = {
  /** Conclusion in free text (at most 4000 characters). */
  conclusion?: InputMaybe<Scalars['String']['input']>;
  /** Every finding of the task, present or absent (BAD_USER_INPUT when one is missing). */
  findings: Array<ReadFindingInput>;
  /** Why the read is amended (at most 2000 characters). */
  reason: Scalars['String']['input'];
  /** Study id. */
  studyId: Scalars['ID']['input'];
};

/** A batch of studies submitted for analysis, with its progress. */
export type AnalysisJob = {
  __typename?: 'AnalysisJob';
  /** Studies analysed so far. */
  completed: Scalars['Int']['output'];
  /** When the job was submitted. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Studies that failed. */
  failed: Scalars['Int']['output'];
  /** Per-study failure codes. */
  failures: Array<StudyFailure>;
  /** When the last study finished. */
  finishedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** Per-study results: the prediction of each study analysed so far (reused when unchanged). */
  results: Array<StudyResult>;
  /** State of the job. */
  status: AnalysisJobStatus;
  /** Studies in the job. */
  studyIds: Array<Scalars['ID']['output']>;
  /** Number of studies. */
  total: Scalars['Int']['output'];
};

/** State of a batch analysis job. */
export type AnalysisJobStatus =
  /** Every study finished (some may have failed; see failures). */
  | 'COMPLETED'
  /** Every study failed, or the job could not be queued. */
  | 'FAILED'
  /** Waiting for workers. */
  | 'QUEUED'
  /** Studies are being analysed. */
  | 'RUNNING';

/** Attaches an uploaded file to a study. */
export type AttachImageInput = {
  /** Accepts named mismatches of a DICOM file's header with the study (audited); without it a mismatch is refused with its code. */
  override?: InputMaybe<IntakeOverrideInput>;
  /** Study id. */
  studyId: Scalars['ID']['input'];
  /** uploadId returned by POST /uploads. */
  uploadId: Scalars['ID']['input'];
  /** Projection of the image. */
  view: ImageView;
};

/** Kind of action recorded in the audit trail. */
export type AuditAction =
  /** An analysis was requested. */
  | 'ANALYZE'
  /** A record was created. */
  | 'CREATE'
  /** A record was deleted. */
  | 'DELETE'
  /** An attempt the caller's role may not make (FORBIDDEN). */
  | 'DENIED'
  /** A token was issued. */
  | 'LOGIN'
  /** Patient data was read. */
  | 'READ'
  /** A subscription was opened. */
  | 'SUBSCRIBE'
  /** A record was changed. */
  | 'UPDATE'
  /** A file was uploaded. */
  | 'UPLOAD';

/** Who did what to which record, when. Append-only. */
export type AuditEvent = {
  __typename?: 'AuditEvent';
  /** Kind of action. */
  action: AuditAction;
  /** User who acted. */
  actorId?: Maybe<Scalars['ID']['output']>;
  /** Role the user acted in. */
  actorRole?: Maybe<Role>;
  /** When it happened. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Record id. */
  entityId?: Maybe<Scalars['String']['output']>;
  /** Record type, e.g. Patient, Study. */
  entityType: Scalars['String']['output'];
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** GraphQL operation or HTTP route. */
  operation?: Maybe<Scalars['String']['output']>;
  /** Patient whose data was touched. */
  patientId?: Maybe<Scalars['ID']['output']>;
  /** Request id, for correlating with logs. */
  requestId?: Maybe<Scalars['String']['output']>;
};

/** A page of AuditEvent records, newest first. */
export type AuditEventConnection = {
  __typename?: 'AuditEventConnection';
  /** The records on this page with their cursors. */
  edges: Array<AuditEventEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a AuditEvent connection. */
export type AuditEventEdge = {
  __typename?: 'AuditEventEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The AuditEvent. */
  node: AuditEvent;
};

/** Filters for the audit trail. */
export type AuditEventFilter = {
  /** Only this action. */
  action?: InputMaybe<AuditAction>;
  /** Only this actor. */
  actorId?: InputMaybe<Scalars['ID']['input']>;
  /** Event time. */
  createdAt?: InputMaybe<DateRangeInput>;
  /** Only this record type. */
  entityType?: InputMaybe<Scalars['String']['input']>;
  /** Only this patient. */
  patientId?: InputMaybe<Scalars['ID']['input']>;
};

/** Anatomy a study covers; decides which model reads it. */
export type BodyPart =
  /** Chest radiograph (pulmonary model). */
  | 'CHEST'
  /** Wrist radiographs, PA and lateral (fracture model). */
  | 'WRIST';

/** Calibrated probability of one class. */
export type ClassProbability = {
  __typename?: 'ClassProbability';
  /** Class label. */
  label: Scalars['String']['output'];
  /** Calibrated probability (0..1). */
  probability: Scalars['Float']['output'];
};

/** A drafted note about a prediction; released only after approval. */
export type ClinicalNote = {
  __typename?: 'ClinicalNote';
  /** When the note was approved. */
  approvedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** Who the note is for. */
  audience: NoteAudience;
  /** Which generator wrote the draft. */
  backend: Scalars['String']['output'];
  /** Note text. */
  body: Scalars['String']['output'];
  /** When the draft was written. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Names of the failed checks (WELL_FORMED, GROUNDED_CONDITIONS, UNCERTAINTY_STATED, CLINICIAN_REVIEW_STATED, READABILITY). */
  failedChecks: Array<Scalars['String']['output']>;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** When a later read or correction invalidated the note (status INVALIDATED). */
  invalidatedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** Why the note was invalidated. */
  invalidationReason?: Maybe<Scalars['String']['output']>;
  /** Language tag, e.g. en. */
  language: Scalars['String']['output'];
  /** The prediction the note is about. */
  predictionId: Scalars['ID']['output'];
  /** True when the draft passed every safety check; only such a draft can be approved. */
  releasable: Scalars['Boolean']['output'];
  /** Safety report of the draft: passed, checks [{name, passed, detail}], ungroundedConditions, readability {metric, score, target, words, sentences, syllables}. */
  safetyChecks: Scalars['JSONObject']['output'];
  /** What the note was drafted from: the AI findings or the radiologist's read. */
  source: NoteSource;
  /** The conditions the note states as present. */
  statedFindings: Array<Scalars['String']['output']>;
  /** DRAFT until a radiologist approves it. */
  status: NoteStatus;
  /** The notice every AI output carries. */
  warning: Scalars['String']['output'];
};

/** A page of ClinicalNote records, newest first. */
export type ClinicalNoteConnection = {
  __typename?: 'ClinicalNoteConnection';
  /** The records on this page with their cursors. */
  edges: Array<ClinicalNoteEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a ClinicalNote connection. */
export type ClinicalNoteEdge = {
  __typename?: 'ClinicalNoteEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The ClinicalNote. */
  node: ClinicalNote;
};

/** A radiologist's correction of a prediction. */
export type Correction = {
  __typename?: 'Correction';
  /** Comment from the radiologist. */
  comment?: Maybe<Scalars['String']['output']>;
  /** When the correction was made. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** User who made the correction. */
  createdById?: Maybe<Scalars['ID']['output']>;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** The label the radiologist read. */
  label: Scalars['String']['output'];
  /** Model version that made the corrected prediction. */
  modelVersionId?: Maybe<Scalars['ID']['output']>;
  /** The model's label at the time (null when the input gate refused the study). */
  predictedLabel?: Maybe<Scalars['String']['output']>;
  /** De-identified copies written to the retraining area. */
  retrainingCopies: Scalars['Int']['output'];
  /** Why no retraining copy was made (error code), or null. */
  retrainingExcludedReason?: Maybe<Scalars['String']['output']>;
};

/** A page of Correction records, newest first. */
export type CorrectionConnection = {
  __typename?: 'CorrectionConnection';
  /** The records on this page with their cursors. */
  edges: Array<CorrectionEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a Correction connection. */
export type CorrectionEdge = {
  __typename?: 'CorrectionEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The Correction. */
  node: Correction;
};

/** Live quality of one model version in one window, measured against radiologist corrections (latest correction per prediction). Binary: positive = any finding (any label but NORMAL / NO_FRACTURE); predicted positive = the model flagged a finding. Agreement = exact class match. Studies the input gate refused are counted in refused and left out of the rates. */
export type CorrectionQuality = {
  __typename?: 'CorrectionQuality';
  /** Share of corrections equal to the model label; null when n = 0. */
  agreement?: Maybe<Scalars['Float']['output']>;
  /** Finding present, not flagged. */
  falseNegatives: Scalars['Int']['output'];
  /** No finding, one flagged. */
  falsePositives: Scalars['Int']['output'];
  /** Its version label. */
  modelVersion?: Maybe<Scalars['String']['output']>;
  /** Model version that made the corrected predictions. */
  modelVersionId?: Maybe<Scalars['ID']['output']>;
  /** Corrections of predictions that had a model label. */
  n: Scalars['Int']['output'];
  /** TP / (TP + FN); null without positives. */
  recall?: Maybe<Scalars['Float']['output']>;
  /** Corrections of studies the input gate refused. */
  refused: Scalars['Int']['output'];
  /** TN / (TN + FP); null without negatives. */
  specificity?: Maybe<Scalars['Float']['output']>;
  /** Reading task. */
  task: ModelTask;
  /** No finding, none flagged. */
  trueNegatives: Scalars['Int']['output'];
  /** Finding present and flagged. */
  truePositives: Scalars['Int']['output'];
  /** End of the window (exclusive). */
  windowEnd: Scalars['DateTimeISO']['output'];
  /** Start of the window (inclusive). */
  windowStart: Scalars['DateTimeISO']['output'];
};

/** Which corrections to measure and how to cut the period into windows. */
export type CorrectionQualityInput = {
  /** Window length in seconds (60 to 31622400); windows are aligned to the Unix epoch. */
  bucketSeconds?: Scalars['Int']['input'];
  /** Inclusive start of the period (correction time). */
  from: Scalars['DateTimeISO']['input'];
  /** Only this model version. */
  modelVersionId?: InputMaybe<Scalars['ID']['input']>;
  /** Only this task. */
  task?: InputMaybe<ModelTask>;
  /** Exclusive end of the period. */
  to: Scalars['DateTimeISO']['input'];
};

/** Registers a patient. */
export type CreatePatientInput = {
  /** Birth date as YYYY-MM-DD. */
  birthDate?: InputMaybe<Scalars['String']['input']>;
  /** Family name. */
  familyName: Scalars['String']['input'];
  /** Given name. */
  givenName: Scalars['String']['input'];
  /** Medical record number; unique. */
  mrn: Scalars['String']['input'];
  /** Administrative sex (default UNKNOWN). */
  sex?: InputMaybe<Sex>;
};

/** A site to register. */
export type CreateSiteInput = {
  /** Short stable code: lower-case letters, digits and dashes (e.g. st-marys-radiology). */
  code: Scalars['String']['input'];
  /** Name shown to users. */
  name: Scalars['String']['input'];
};

/** Registers a study for a patient. */
export type CreateStudyInput = {
  /** Accession number from the RIS; unique. */
  accessionNumber: Scalars['String']['input'];
  /** Anatomy examined. */
  bodyPart: BodyPart;
  /** Free-text description. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Patient id. */
  patientId: Scalars['ID']['input'];
  /** Reading priority (default ROUTINE). */
  priority?: InputMaybe<StudyPriority>;
  /** Site (hospital or department) the study belongs to; the default site when omitted. */
  siteId?: InputMaybe<Scalars['ID']['input']>;
  /** DICOM Study Instance UID, if known. */
  studyInstanceUid?: InputMaybe<Scalars['String']['input']>;
};

/** Creates a user. */
export type CreateUserInput = {
  /** Name shown in the interface. */
  displayName: Scalars['String']['input'];
  /** Login e-mail; unique. */
  email: Scalars['String']['input'];
  /** Role. */
  role: Role;
};

/** A time interval; either end may be open. */
export type DateRangeInput = {
  /** Inclusive start. */
  from?: InputMaybe<Scalars['DateTimeISO']['input']>;
  /** Exclusive end. */
  to?: InputMaybe<Scalars['DateTimeISO']['input']>;
};

/** An AI result report stored on the PACS as a DICOM Structured Report. */
export type DicomExport = {
  __typename?: 'DicomExport';
  /** The exported prediction. */
  predictionId: Scalars['ID']['output'];
  /** Series Instance UID of the report. */
  seriesInstanceUid: Scalars['String']['output'];
  /** SOP Class UID (Comprehensive SR Storage). */
  sopClassUid: Scalars['String']['output'];
  /** SOP Instance UID of the report (the same on every export of this prediction). */
  sopInstanceUid: Scalars['String']['output'];
  /** Study the report was added to (the source study). */
  studyInstanceUid: Scalars['String']['output'];
};

/** Result of importing one study from the PACS. */
export type DicomImport = {
  __typename?: 'DicomImport';
  /** Instances that were already here (nothing duplicated). */
  alreadyStored: Scalars['Int']['output'];
  /** Instances refused. */
  failed: Scalars['Int']['output'];
  /** Per-instance outcome. */
  instances: Array<DicomInstanceOutcome>;
  /** Instances newly stored. */
  stored: Scalars['Int']['output'];
  /** Our studies that hold the imported instances. */
  studyIds: Array<Scalars['ID']['output']>;
  /** DICOM Study Instance UID that was retrieved. */
  studyInstanceUid: Scalars['String']['output'];
};

/** What became of one DICOM instance offered for ingestion. */
export type DicomInstanceOutcome = {
  __typename?: 'DicomInstanceOutcome';
  /** Why it failed: a stable code such as CORRUPT_IMAGE or PATIENT_ID_MISSING. */
  code?: Maybe<Scalars['String']['output']>;
  /** DICOM STOW-RS failure reason (e.g. 0xC000 = 49152). */
  failureReason?: Maybe<Scalars['Int']['output']>;
  /** SOP Instance UID (null when the header was unreadable). */
  sopInstanceUid?: Maybe<Scalars['String']['output']>;
  /** STORED, ALREADY_STORED (idempotent re-ingest) or FAILED. */
  status: Scalars['String']['output'];
  /** Our study the instance belongs to. */
  studyId?: Maybe<Scalars['ID']['output']>;
};

/** A detected shift between production inputs/outputs and the reference. */
export type DriftAlert = {
  __typename?: 'DriftAlert';
  /** When the alert was raised. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** Model version whose reference was used. */
  modelVersionId?: Maybe<Scalars['ID']['output']>;
  /** p-value where the test gives one. */
  pValue?: Maybe<Scalars['Float']['output']>;
  /** Signal that drifted, e.g. embedding, confidence, predicted_class. */
  signal: Scalars['String']['output'];
  /** Test used, e.g. MMD, PSI, KS. */
  statistic: Scalars['String']['output'];
  /** Alert state. */
  status: DriftAlertStatus;
  /** Threshold that was crossed. */
  threshold: Scalars['Float']['output'];
  /** Value of the statistic. */
  value: Scalars['Float']['output'];
  /** End of the window. */
  windowEnd: Scalars['DateTimeISO']['output'];
  /** How the window was cut. */
  windowKind: DriftWindowKind;
  /** Number of predictions in the window. */
  windowSize: Scalars['Int']['output'];
  /** Start of the window. */
  windowStart: Scalars['DateTimeISO']['output'];
};

/** A page of DriftAlert records, newest first. */
export type DriftAlertConnection = {
  __typename?: 'DriftAlertConnection';
  /** The records on this page with their cursors. */
  edges: Array<DriftAlertEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a DriftAlert connection. */
export type DriftAlertEdge = {
  __typename?: 'DriftAlertEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The DriftAlert. */
  node: DriftAlert;
};

/** State of a drift alert. */
export type DriftAlertStatus =
  /** Seen by a person. */
  | 'ACKNOWLEDGED'
  /** Raised, not yet handled. */
  | 'OPEN'
  /** Handled. */
  | 'RESOLVED';

/** One comparison of a production window with a model version’s reference profile. */
export type DriftCheck = {
  __typename?: 'DriftCheck';
  /** True when any signal drifted. */
  drifted: Scalars['Boolean']['output'];
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** Model version whose reference was used. */
  modelVersionId: Scalars['ID']['output'];
  /** Per-signal results. */
  signals: Array<DriftSignalResult>;
  /** End of the window. */
  windowEnd: Scalars['DateTimeISO']['output'];
  /** How the window was cut. */
  windowKind: DriftWindowKind;
  /** Accepted predictions in the window. */
  windowSize: Scalars['Int']['output'];
  /** Start of the window. */
  windowStart: Scalars['DateTimeISO']['output'];
};

/** How drift is tested (from configuration). */
export type DriftSettings = {
  __typename?: 'DriftSettings';
  /** Family-wise false-alarm level of the p-value tests (Bonferroni-shared). */
  alpha: Scalars['Float']['output'];
  /** Whether drift detection runs. */
  enabled: Scalars['Boolean']['output'];
  /** Smallest time window that is tested. */
  minWindowSize: Scalars['Int']['output'];
  /** Permutations of the embedding MMD test. */
  permutations: Scalars['Int']['output'];
  /** PSI threshold of the binned signals. */
  psiThreshold: Scalars['Float']['output'];
  /** Minutes per time window (0: off). */
  timeWindowMinutes: Scalars['Float']['output'];
  /** Accepted predictions per count window. */
  windowSize: Scalars['Int']['output'];
};

/** One signal of one drift check. */
export type DriftSignalResult = {
  __typename?: 'DriftSignalResult';
  /** True when the signal crossed its threshold. */
  drifted: Scalars['Boolean']['output'];
  /** p-value where the test gives one. */
  pValue?: Maybe<Scalars['Float']['output']>;
  /** Signal: embedding, confidence, intensity_mean, image_size, predicted_class, intensity_histogram, bit_depth or format. */
  signal: Scalars['String']['output'];
  /** Test: MMD2_RBF (permutation p-value), KS, or PSI. */
  statistic: Scalars['String']['output'];
  /** Level the p-value is compared with (Bonferroni share of DRIFT_ALPHA), or the PSI threshold. */
  threshold: Scalars['Float']['output'];
  /** Value of the statistic. */
  value: Scalars['Float']['output'];
};

/** How a drift window was cut from the accepted predictions of a model version. */
export type DriftWindowKind =
  /** Every DRIFT_WINDOW_SIZE accepted predictions (tumbling). */
  | 'COUNT'
  /** The accepted predictions of each DRIFT_TIME_WINDOW_MINUTES period. */
  | 'TIME';

/** A measured rate with its 95% percentile-bootstrap interval. */
export type Estimate = {
  __typename?: 'Estimate';
  /** Lower bound of the 95% interval. */
  lower?: Maybe<Scalars['Float']['output']>;
  /** Items it rests on. */
  n: Scalars['Int']['output'];
  /** Upper bound of the 95% interval. */
  upper?: Maybe<Scalars['Float']['output']>;
  /** Point estimate; null when undefined (no positives, say). */
  value?: Maybe<Scalars['Float']['output']>;
};

/** The radiologist's signed read of a study (version 1), or an amendment of it (version 2...). */
export type FinalRead = {
  __typename?: 'FinalRead';
  /** Agreement with the AI prediction read beside it. */
  agreement: ReviewAgreement;
  /** Why it amends the previous version. */
  amendmentReason?: Maybe<Scalars['String']['output']>;
  /** The radiologist's conclusion. */
  conclusion?: Maybe<Scalars['String']['output']>;
  /** Every finding of the task as the radiologist read it. */
  findings: Array<ReadFinding>;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** The task class the read amounts to (e.g. NORMAL, PNEUMONIA). */
  label: Scalars['String']['output'];
  /** The AI prediction read beside it, when there was one. */
  predictionId?: Maybe<Scalars['ID']['output']>;
  /** The radiologist who signed it. */
  radiologistId?: Maybe<Scalars['ID']['output']>;
  /** When it was signed. */
  signedAt: Scalars['DateTimeISO']['output'];
  /** FINAL or AMENDED. */
  status: StudyStatus;
  /** The study read. */
  studyId: Scalars['ID']['output'];
  /** 1 for the final read, 2... for amendments. */
  version: Scalars['Int']['output'];
};

/** A condition flagged at the model operating point. */
export type Finding = {
  __typename?: 'Finding';
  /** Condition label, e.g. PNEUMONIA. */
  label: Scalars['String']['output'];
  /** Calibrated probability. */
  probability: Scalars['Float']['output'];
  /** Operating-point threshold chosen for recall. */
  threshold: Scalars['Float']['output'];
};

/** One finding of the task against its operating point: what decides whether it is flagged. */
export type FindingAssessment = {
  __typename?: 'FindingAssessment';
  /** True when the probability reached the operating point. */
  flagged: Scalars['Boolean']['output'];
  /** Finding label, e.g. PNEUMONIA. */
  label: Scalars['String']['output'];
  /** Calibrated probability of the finding. */
  probability: Scalars['Float']['output'];
  /** Operating point (recall-first threshold) used by this reading. */
  threshold: Scalars['Float']['output'];
};

/** One finding's comparison in a per-site rollout gate. */
export type GateFinding = {
  __typename?: 'GateFinding';
  /** Recall the site's approved operating point promised (its target). */
  approvedRecall: Scalars['Float']['output'];
  /** The candidate's recall on the site's validation set at the operating point it would serve with. */
  candidateRecall?: Maybe<Scalars['Float']['output']>;
  /** Finding label. */
  label: Scalars['String']['output'];
  /** True when the candidate reached the approved recall. */
  passed: Scalars['Boolean']['output'];
  /** Site positives of the finding. */
  positives: Scalars['Int']['output'];
};

/** Verdict of the input gate that runs before any diagnosis. */
export type GateVerdict =
  /** A readable radiograph of the expected body part: a diagnosis was made. */
  | 'ACCEPTED'
  /** Too poor to read reliably: refused. */
  | 'LOW_QUALITY'
  /** Not a radiograph (photo, document, other modality): refused. */
  | 'NOT_A_RADIOGRAPH'
  /** A radiograph of another body part: refused. */
  | 'WRONG_BODY_PART';

/** A radiograph attached to a study. Pixels live in the object store. */
export type Image = {
  __typename?: 'Image';
  /** Bits stored per pixel (8 for JPEG, up to 16 for PNG and DICOM). */
  bitsStored: Scalars['Int']['output'];
  /** When the image was attached. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Selected DICOM attributes (modality, body part, view position, UIDs, rescale, window); no patient identifiers. */
  dicomAttributes?: Maybe<Scalars['JSONObject']['output']>;
  /** File format as uploaded. */
  format: ImageFormat;
  /** Rows in pixels. */
  height: Scalars['Int']['output'];
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** Set when the file's DICOM header disagreed with the study and the mismatch was accepted. */
  intakeOverride?: Maybe<IntakeOverride>;
  /** Photometric interpretation (MONOCHROME1, MONOCHROME2, RGB). */
  photometric: Scalars['String']['output'];
  /** SHA-256 of the file as uploaded (hex). */
  sha256: Scalars['String']['output'];
  /** File size in bytes. */
  sizeBytes: Scalars['Int']['output'];
  /** The study the image belongs to. */
  study: Study;
  /** DICOM transfer syntax UID, for DICOM files. */
  transferSyntaxUid?: Maybe<Scalars['String']['output']>;
  /** Path of the file on this API (GET with the same bearer token). */
  url: Scalars['String']['output'];
  /** Projection. */
  view: ImageView;
  /** Columns in pixels. */
  width: Scalars['Int']['output'];
};

/** A page of Image records, newest first. */
export type ImageConnection = {
  __typename?: 'ImageConnection';
  /** The records on this page with their cursors. */
  edges: Array<ImageEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a Image connection. */
export type ImageEdge = {
  __typename?: 'ImageEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The Image. */
  node: Image;
};

/** Filters for the images list. */
export type ImageFilter = {
  /** Only this study. */
  studyId?: InputMaybe<Scalars['ID']['input']>;
  /** Only this view. */
  view?: InputMaybe<ImageView>;
};

/** Container format of an uploaded file. */
export type ImageFormat =
  /** DICOM Part 10 file. */
  | 'DICOM'
  /** JPEG. */
  | 'JPEG'
  /** PNG, 8 or 16 bits. */
  | 'PNG';

/** Radiographic projection of an image. */
export type ImageView =
  /** Anteroposterior projection. */
  | 'AP'
  /** Lateral projection. */
  | 'LATERAL'
  /** Oblique projection. */
  | 'OBLIQUE'
  /** Posteroanterior projection. */
  | 'PA';

/** A way a DICOM file's header contradicts the study it is attached to (also the error code that refuses it). */
export type IntakeMismatch =
  /** Accession Number is not the study's. */
  | 'ACCESSION_MISMATCH'
  /** Body Part Examined is not the study's body part. */
  | 'BODY_PART_MISMATCH'
  /** Issuer of Patient ID is not DICOM_PATIENT_ID_ISSUER. */
  | 'PATIENT_ID_ISSUER_MISMATCH'
  /** Patient ID is not the study patient's MRN. */
  | 'PATIENT_MISMATCH'
  /** Study Instance UID is not the study's. */
  | 'STUDY_UID_MISMATCH'
  /** View Position is not the view given. */
  | 'VIEW_MISMATCH';

/** Mismatches of a DICOM file's header with its study that the uploader accepted explicitly. */
export type IntakeOverride = {
  __typename?: 'IntakeOverride';
  /** The mismatches accepted (IntakeMismatch values). */
  accepted: Array<Scalars['String']['output']>;
  /** When. */
  at: Scalars['DateTimeISO']['output'];
  /** Why the uploader accepted them. */
  reason: Scalars['String']['output'];
  /** Who accepted them. */
  userId: Scalars['ID']['output'];
};

/** Accepts named mismatches between a DICOM file's header and its study (audited, recorded on the image). */
export type IntakeOverrideInput = {
  /** Every mismatch to accept; any other still refuses the file. */
  accept: Array<IntakeMismatch>;
  /** Why the file belongs to this study anyway (at most 1000 characters). */
  reason: Scalars['String']['input'];
};

/** Mints a token for an existing user. */
export type IssueTokenInput = {
  /** Lifetime in seconds (default from configuration, at most 30 days). */
  ttlSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** User id. */
  userId: Scalars['ID']['input'];
};

/** A freshly minted bearer token. Shown once; store it safely. */
export type IssuedToken = {
  __typename?: 'IssuedToken';
  /** When it expires. */
  expiresAt: Scalars['DateTimeISO']['output'];
  /** The bearer token. */
  token: Scalars['String']['output'];
  /** Whom it was issued to. */
  user: User;
};

/** How many items carry one label. */
export type LabelCount = {
  __typename?: 'LabelCount';
  /** Class label. */
  label: Scalars['String']['output'];
  /** Count. */
  n: Scalars['Int']['output'];
};

/** Where a model version came from (ancestors, training run, data, gate) and how it reached its stage. */
export type ModelLineage = {
  __typename?: 'ModelLineage';
  /** Code version (git revision) that trained it. */
  codeVersion?: Maybe<Scalars['String']['output']>;
  /** Dataset counts per split and label, as the training run recorded them. */
  datasetCounts?: Maybe<Scalars['JSONObject']['output']>;
  /** SHA-256 of the training dataset manifest. */
  datasetManifestSha256?: Maybe<Scalars['String']['output']>;
  /** The evaluation gate's verdict and numbers for its training run (null when none ran). */
  gateVerdict?: Maybe<Scalars['JSONObject']['output']>;
  /** Test metrics recorded at registration (AUROC per class, metrics at thresholds, input gate). */
  metrics?: Maybe<Scalars['JSONObject']['output']>;
  /** The version described. */
  modelVersion: ModelVersion;
  /** Versions it descends from: parent first, then its parent, and so on. */
  parents: Array<ModelVersion>;
  /** When it was last promoted. */
  promotedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** Who last promoted it. */
  promotedBy?: Maybe<RegistryActor>;
  /** Its stage history, oldest first. */
  stageChanges: Array<ModelStageChange>;
  /** Training duration in seconds. */
  trainingDurationSeconds?: Maybe<Scalars['Float']['output']>;
  /** The training run that produced it. */
  trainingRun?: Maybe<TrainingRun>;
};

/** Rollout stage of a model version. */
export type ModelStage =
  /** Retired; kept for lineage. */
  | 'ARCHIVED'
  /** Serving a configured share of studies. */
  | 'CANARY'
  /** Serving all other studies. */
  | 'PRODUCTION'
  /** Registered, serving no traffic. */
  | 'STAGING';

/** One stage change of a model version, as recorded. */
export type ModelStageChange = {
  __typename?: 'ModelStageChange';
  /** Who made the change; null for the start-up repository sync. */
  actor?: Maybe<RegistryActor>;
  /** When it happened. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Stage before. */
  fromStage: ModelStage;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** What caused the change. */
  kind: ModelStageChangeKind;
  /** Stage after. */
  toStage: ModelStage;
  /** Canary traffic share after the change (0 outside CANARY). */
  trafficShare: Scalars['Float']['output'];
};

/** What moved a model version from one rollout stage to another. */
export type ModelStageChangeKind =
  /** An admin archived a STAGING or CANARY version. */
  | 'ARCHIVED'
  /** An admin changed the canary's traffic share. */
  | 'CANARY_SHARE_CHANGED'
  /** An admin started a canary (STAGING to CANARY). */
  | 'CANARY_STARTED'
  /** Start-up made the newest version PRODUCTION because the task had none. */
  | 'INITIAL_PRODUCTION'
  /** An admin promoted the canary to PRODUCTION. */
  | 'PROMOTED'
  /** Archived because another version was promoted to PRODUCTION. */
  | 'REPLACED'
  /** Made PRODUCTION again by a rollback. */
  | 'RESTORED'
  /** Archived by a rollback of PRODUCTION. */
  | 'ROLLED_BACK';

/** Which reading task a model serves. */
export type ModelTask =
  /** Chest: NORMAL, PNEUMONIA, TUBERCULOSIS. */
  | 'CHEST'
  /** Wrist: fracture or no fracture from two views. */
  | 'WRIST';

/** A registered model version and its rollout stage. */
export type ModelVersion = {
  __typename?: 'ModelVersion';
  /** Folder holding model.onnx and model.json. */
  artifactPath: Scalars['String']['output'];
  /** When it was registered. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** SHA-256 of the training data manifest. */
  manifestSha256?: Maybe<Scalars['String']['output']>;
  /** Evaluation metrics recorded at registration. */
  metrics?: Maybe<Scalars['JSONObject']['output']>;
  /** Version it was trained from (fine-tuned or retrained). */
  parentId?: Maybe<Scalars['ID']['output']>;
  /** PRODUCTION version it replaced when promoted; a rollback restores that one. */
  previousProductionId?: Maybe<Scalars['ID']['output']>;
  /** When it was last promoted (to CANARY or PRODUCTION, or restored by a rollback). */
  promotedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** Rollout stage. */
  stage: ModelStage;
  /** Reading task. */
  task: ModelTask;
  /** Share of studies routed here while CANARY (0..1). */
  trafficShare: Scalars['Float']['output'];
  /** Training run that produced it. */
  trainingRunId?: Maybe<Scalars['ID']['output']>;
  /** Version label, matching models/<task>/<version>/. */
  version: Scalars['String']['output'];
};

/** A registry event: a model version changed stage or canary share. */
export type ModelVersionChange = {
  __typename?: 'ModelVersionChange';
  /** Stage before the change. */
  fromStage?: Maybe<ModelStage>;
  /** What happened. */
  kind: ModelStageChangeKind;
  /** The version as it is now. */
  modelVersion: ModelVersion;
  /** Stage after the change. */
  toStage: ModelStage;
};

/** A page of ModelVersion records, newest first. */
export type ModelVersionConnection = {
  __typename?: 'ModelVersionConnection';
  /** The records on this page with their cursors. */
  edges: Array<ModelVersionEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a ModelVersion connection. */
export type ModelVersionEdge = {
  __typename?: 'ModelVersionEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The ModelVersion. */
  node: ModelVersion;
};

/** Filters for the model registry. */
export type ModelVersionFilter = {
  /** Only this stage. */
  stage?: InputMaybe<ModelStage>;
  /** Only this task. */
  task?: InputMaybe<ModelTask>;
};

/** A model version as monitoring sees it. */
export type MonitoredModelVersion = {
  __typename?: 'MonitoredModelVersion';
  /** Whether a reference profile exists, so drift is checked. */
  hasReferenceProfile: Scalars['Boolean']['output'];
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** Rollout stage. */
  stage: ModelStage;
  /** Task it serves. */
  task: ModelTask;
  /** Canary traffic share (0..1). */
  trafficShare: Scalars['Float']['output'];
  /** Version name. */
  version: Scalars['String']['output'];
};

/** A recent prediction without patient data: what the model said and how fast. */
export type MonitoredPrediction = {
  __typename?: 'MonitoredPrediction';
  /** When it was recorded. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Input gate verdict. */
  gateVerdict: GateVerdict;
  /** Prediction id. */
  id: Scalars['ID']['output'];
  /** Most probable label (null when refused). */
  label?: Maybe<Scalars['String']['output']>;
  /** Model version as task/version. */
  model?: Maybe<Scalars['String']['output']>;
  /** PRODUCTION, CANARY or SHADOW. */
  route: Scalars['String']['output'];
  /** End-to-end analysis time (ms). */
  totalMs?: Maybe<Scalars['Float']['output']>;
};

/** What the monitoring dashboard shows besides drift: models, throughput, latency, recent predictions. */
export type MonitoringOverview = {
  __typename?: 'MonitoringOverview';
  /** Bucket width in minutes. */
  bucketMinutes: Scalars['Int']['output'];
  /** Corrections recorded in the period. */
  corrections: Scalars['Int']['output'];
  /** Drift test settings. */
  drift: DriftSettings;
  /** Registered model versions and their stages. */
  modelVersions: Array<MonitoredModelVersion>;
  /** Most recent predictions, newest first. */
  recentPredictions: Array<MonitoredPrediction>;
  /** Per-bucket throughput and latency, oldest first. */
  throughput: Array<ThroughputBucket>;
  /** AI assistance notice. */
  warning: Scalars['String']['output'];
};

/** Changes. Every mutation is authorised by role and audited. */
export type Mutation = {
  __typename?: 'Mutation';
  /** Acknowledges an open drift alert (technicians, admins). */
  acknowledgeDriftAlert: DriftAlert;
  /** Adds labelled studies (already in the system, with a film) to a site's validation set (admins, radiologists). Every row is checked first; a bad row is refused by its index (SITE_LABELS_INVALID, details.row) and nothing is stored. Radiologists' reads of the site's studies join the set by themselves. Returns the set of each task touched. Audited. */
  addSiteValidationStudies: Array<SiteValidationSet>;
  /** Amends the signed read (radiologists), with the reason: status AMENDED; the new version is in force. */
  amendFinalRead: FinalRead;
  /** Analyses a study now and returns the prediction (AI assistance; requires clinician review). A study whose images have not changed since its last reading gets that reading back; reread: true reads it again (the new prediction links to the earlier one in rereadOfId). */
  analyzeStudy: Prediction;
  /** Approves a draft so integrators can read it (radiologists). Refused with NOTE_FAILED_SAFETY_CHECKS when the draft failed a safety check. */
  approveNote: ClinicalNote;
  /** Approves the site operating point an evaluation proposes (admins): the site's predictions by that version use it from now on and say siteValidated; it also passes the version's rollout gate at the site. SITE_OPERATING_POINT_NOT_APPROVABLE unless the evaluation succeeded with at least one finding chosen on the site's positives. Audited. */
  approveSiteOperatingPoint: SiteOperatingPoint;
  /** Archives a STAGING or CANARY version; archiving a canary stops it (admins). */
  archiveModelVersion: ModelVersion;
  /** Attaches a file uploaded through POST /uploads to a study with its view (technicians). */
  attachImage: Image;
  /** Registers a patient (technicians). */
  createPatient: Patient;
  /** Registers a site (admins). Audited. */
  createSite: Site;
  /** Registers a study for a patient (technicians). */
  createStudy: Study;
  /** Creates a user (admins). */
  createUser: User;
  /** Deactivates a user; its tokens stop working at once (admins). */
  deactivateUser: User;
  /** Queues an evaluation of a model version on a site's validation set (admins); follow it with siteValidationChanged or siteValidation. SITE_VALIDATION_SET_INSUFFICIENT when the set is empty or one class. Audited. */
  evaluateSite: SiteEvaluation;
  /** Stores the AI report of a prediction on the PACS as a DICOM Comprehensive SR in the source study (AI assistance; requires clinician review). */
  exportPredictionToPacs: DicomExport;
  /** Drafts a note about a prediction from its structured findings and returns it once stored, as a DRAFT with its safety report; follow the text as it is written with noteDraftStreamed. AI assistance; requires clinician review. */
  generateNote: ClinicalNote;
  /** Retrieves a study from the PACS (WADO-RS) and creates its patient, study and images; importing again adds nothing. */
  importStudyFromPacs: DicomImport;
  /** Mints a bearer token for a user (admins). The token is shown once. Users whose role reads patient data get theirs from the operators (npm run token:mint), never through the API: FORBIDDEN. */
  issueToken: IssuedToken;
  /** Promotes the canary to PRODUCTION; the previous production version is archived and becomes the rollback target (admins). */
  promoteModelVersion: ModelVersion;
  /** Rejects a draft (radiologists); it is never released. */
  rejectNote: ClinicalNote;
  /** Resolves a drift alert (technicians, admins). */
  resolveDriftAlert: DriftAlert;
  /** Rolls a task back: archives its PRODUCTION version and restores the one that version replaced; returns the restored version (admins). */
  rollbackModelVersion: ModelVersion;
  /** Changes a running canary's traffic share (admins). */
  setCanaryShare: ModelVersion;
  /** Signs the radiologist's final read (radiologists): every finding present or absent, agreeing with or correcting the AI. Status FINAL; notes that state other findings are invalidated. */
  signFinalRead: FinalRead;
  /** Starts a canary (STAGING to CANARY): the given share of studies is read by this version (admins). */
  startCanary: ModelVersion;
  /** Queues a retraining run of a task (admins): original data + corrections, trained, evaluated, and registered as STAGING only if it passes the gate. */
  startRetraining: TrainingRun;
  /** Opens a study with images for reading (radiologists): status IN_REVIEW. */
  startReview: Study;
  /** Records the true label of a prediction (radiologists). A de-identified copy of the images goes to the retraining area. */
  submitCorrection: Correction;
  /** Queues studies for analysis as a durable batch job; follow it with analysisJobUpdated. */
  submitStudies: AnalysisJob;
  /** Changes a patient (technicians). */
  updatePatient: Patient;
  /** Changes priority or description (technicians). The reading states follow the workflow (startReview, signFinalRead, amendFinalRead). */
  updateStudy: Study;
  /** Uploads a small image inline (base64, limit MAX_BASE64_UPLOAD_BYTES, default 2 MiB) and attaches it (technicians). */
  uploadImageBase64: Image;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationAcknowledgeDriftAlertArgs = {
  id: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationAddSiteValidationStudiesArgs = {
  input: AddSiteValidationStudiesInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationAmendFinalReadArgs = {
  input: AmendFinalReadInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationAnalyzeStudyArgs = {
  reread?: Scalars['Boolean']['input'];
  studyId: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationApproveNoteArgs = {
  id: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationApproveSiteOperatingPointArgs = {
  evaluationId: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationArchiveModelVersionArgs = {
  id: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationAttachImageArgs = {
  input: AttachImageInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationCreatePatientArgs = {
  input: CreatePatientInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationCreateSiteArgs = {
  input: CreateSiteInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationCreateStudyArgs = {
  input: CreateStudyInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationCreateUserArgs = {
  input: CreateUserInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationDeactivateUserArgs = {
  id: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationEvaluateSiteArgs = {
  modelVersionId: Scalars['ID']['input'];
  siteId: Scalars['ID']['input'];
  targetRecall?: InputMaybe<Scalars['Float']['input']>;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationExportPredictionToPacsArgs = {
  predictionId: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationGenerateNoteArgs = {
  audience: NoteAudience;
  language?: Scalars['String']['input'];
  predictionId: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationImportStudyFromPacsArgs = {
  studyInstanceUid: Scalars['String']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationIssueTokenArgs = {
  input: IssueTokenInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationPromoteModelVersionArgs = {
  id: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationRejectNoteArgs = {
  id: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationResolveDriftAlertArgs = {
  id: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationRollbackModelVersionArgs = {
  task: ModelTask;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationSetCanaryShareArgs = {
  id: Scalars['ID']['input'];
  trafficShare: Scalars['Float']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationSignFinalReadArgs = {
  input: SignFinalReadInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationStartCanaryArgs = {
  id: Scalars['ID']['input'];
  trafficShare: Scalars['Float']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationStartRetrainingArgs = {
  task: ModelTask;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationStartReviewArgs = {
  studyId: Scalars['ID']['input'];
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationSubmitCorrectionArgs = {
  input: SubmitCorrectionInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationSubmitStudiesArgs = {
  studyIds: Array<Scalars['ID']['input']>;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationUpdatePatientArgs = {
  id: Scalars['ID']['input'];
  input: UpdatePatientInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationUpdateStudyArgs = {
  id: Scalars['ID']['input'];
  input: UpdateStudyInput;
};


/** Changes. Every mutation is authorised by role and audited. */
export type MutationUploadImageBase64Args = {
  input: UploadImageBase64Input;
};

/** Who a clinical note is written for. */
export type NoteAudience =
  /** Technical language for clinicians. */
  | 'CLINICIAN'
  /** Plain language for the patient. */
  | 'PATIENT';

/** A piece of a note draft as it is written (generateNote), or the end of the draft. */
export type NoteDraftChunk = {
  __typename?: 'NoteDraftChunk';
  /** True on the last event of a draft. */
  done: Scalars['Boolean']['output'];
  /** On the last event: the error code when no draft was stored (e.g. NOTE_BACKEND_TIMEOUT). */
  error?: Maybe<Scalars['String']['output']>;
  /** Id the note has (or would have had) once stored. */
  noteId: Scalars['ID']['output'];
  /** The prediction the note is about. */
  predictionId: Scalars['ID']['output'];
  /** Position of this piece, from 0. Delivery order may differ, so sort by it; the last event (done) has the sequence that equals the number of pieces before it, so a client knows when it has them all. */
  sequence: Scalars['Int']['output'];
  /** Text of this piece (empty on the last event). */
  text: Scalars['String']['output'];
};

/** What a clinical note was drafted from. */
export type NoteSource =
  /** The AI findings (no radiologist read or correction existed yet). */
  | 'AI'
  /** The radiologist's read (signed final read, or a correction). */
  | 'RADIOLOGIST';

/** Review state of a clinical note. */
export type NoteStatus =
  /** Approved by a radiologist; releasable. */
  | 'APPROVED'
  /** Not yet reviewed; not visible to integrators. */
  | 'DRAFT'
  /** A later radiologist read or correction states other findings: the note no longer applies (see invalidationReason). */
  | 'INVALIDATED'
  /** Rejected by a radiologist. */
  | 'REJECTED';

/** Recall and specificity of a finding at one threshold. */
export type OperatingPointMeasure = {
  __typename?: 'OperatingPointMeasure';
  /** Recall on the site positives of the finding. */
  recall: Estimate;
  /** For the site threshold: chosen on the site positives, or the shipped one kept. */
  source?: Maybe<ThresholdSource>;
  /** Specificity on the site studies without any finding (the negative class). */
  specificity: Estimate;
  /** Threshold on the calibrated probability. */
  threshold: Scalars['Float']['output'];
};

/** A study found on the PACS with QIDO-RS. */
export type PacsStudy = {
  __typename?: 'PacsStudy';
  /** DICOM Accession Number (may be empty). */
  accessionNumber: Scalars['String']['output'];
  /** Modalities in the study (CR, DX, SR...). */
  modalities: Array<Scalars['String']['output']>;
  /** Number of instances, when the PACS says. */
  numberOfInstances?: Maybe<Scalars['Int']['output']>;
  /** DICOM Patient ID (becomes the patient MRN on import). */
  patientId: Scalars['String']['output'];
  /** DICOM Study Date (YYYYMMDD; may be empty). */
  studyDate: Scalars['String']['output'];
  /** Our studies with this Study Instance UID (empty: not imported yet). */
  studyIds: Array<Scalars['ID']['output']>;
  /** DICOM Study Instance UID. */
  studyInstanceUid: Scalars['String']['output'];
};

/** QIDO-RS match keys for a PACS study search; omitted keys match everything. */
export type PacsStudyFilterInput = {
  /** DICOM Accession Number. */
  accessionNumber?: InputMaybe<Scalars['String']['input']>;
  /** Most studies returned (1..200, default 50). */
  limit?: InputMaybe<Scalars['Int']['input']>;
  /** A modality in the study (CR, DX...). */
  modality?: InputMaybe<Scalars['String']['input']>;
  /** DICOM Patient ID. */
  patientId?: InputMaybe<Scalars['String']['input']>;
  /** Study Date, YYYYMMDD or a range YYYYMMDD-YYYYMMDD. */
  studyDate?: InputMaybe<Scalars['String']['input']>;
  /** DICOM Study Instance UID. */
  studyInstanceUid?: InputMaybe<Scalars['String']['input']>;
};

/** Relay page information for cursor pagination. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last edge; pass it as `after` for the next page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether more items follow the last edge. */
  hasNextPage: Scalars['Boolean']['output'];
  /** Whether items precede the first edge (true when `after` was given). */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** Cursor of the first edge. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** A patient registered by the hospital. Reading it is audited. */
export type Patient = {
  __typename?: 'Patient';
  /** Birth date as YYYY-MM-DD. */
  birthDate?: Maybe<Scalars['String']['output']>;
  /** When the patient was registered. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Family name. */
  familyName: Scalars['String']['output'];
  /** Given name. */
  givenName: Scalars['String']['output'];
  /** Stable identifier (not the MRN). */
  id: Scalars['ID']['output'];
  /** Medical record number, unique in the hospital. */
  mrn: Scalars['String']['output'];
  /** Administrative sex. */
  sex: Sex;
  /** The patient's studies, newest first. */
  studies: StudyConnection;
  /** When the record last changed. */
  updatedAt: Scalars['DateTimeISO']['output'];
};


/** A patient registered by the hospital. Reading it is audited. */
export type PatientStudiesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A page of Patient records, newest first. */
export type PatientConnection = {
  __typename?: 'PatientConnection';
  /** The records on this page with their cursors. */
  edges: Array<PatientEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a Patient connection. */
export type PatientEdge = {
  __typename?: 'PatientEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The Patient. */
  node: Patient;
};

/** Filters for the patients list. */
export type PatientFilter = {
  /** Registration time. */
  createdAt?: InputMaybe<DateRangeInput>;
  /** Case-insensitive prefix of the family name. */
  familyNamePrefix?: InputMaybe<Scalars['String']['input']>;
  /** Exact medical record number. */
  mrn?: InputMaybe<Scalars['String']['input']>;
};

/** An AI reading of a study. AI assistance: requires clinician review. */
export type Prediction = {
  __typename?: 'Prediction';
  /** Every finding of the task with its probability, operating point and whether it is flagged (empty when the gate refused the film). Needs READ_PREDICTIONS. */
  assessments?: Maybe<Array<FindingAssessment>>;
  /** When the prediction was made. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Plain explanation, e.g. why an input was refused. */
  explanation?: Maybe<Scalars['String']['output']>;
  /** The flagged findings: those that reached their recall-first operating point. Needs READ_PREDICTIONS. */
  findings?: Maybe<Array<Finding>>;
  /** True when the study is flagged for review (outcome FLAGGED_FOR_REVIEW). Needs READ_PREDICTIONS. */
  flagged?: Maybe<Scalars['Boolean']['output']>;
  /** Input gate verdict; anything but ACCEPTED means no diagnosis was made. */
  gateVerdict: GateVerdict;
  /** Numeric precision of the graph that made this reading: fp32 (the version's model.onnx) or int8 (its accepted int8 graph, served with ENGINE_PRECISION=int8). */
  graphPrecision: Scalars['String']['output'];
  /** Path of the class-activation heatmap (PNG) on this API: the map over the film in its proportions, named by its finding, with a colour scale; add ?overlay=false for the bare map. Needs READ_PREDICTIONS. */
  heatmapUrl?: Maybe<Scalars['String']['output']>;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** The images read, by id and SHA-256, in the order the model took them. */
  inputs: Array<PredictionInput>;
  /** Top-1 class (most probable), or null when the input was refused. Never read it alone: the operating points favour recall, so a finding can be flagged while the top class is NORMAL; read outcome/flagged. Needs READ_PREDICTIONS. */
  label?: Maybe<Scalars['String']['output']>;
  /** Model version that made this reading (see modelVersions and modelLineage). */
  modelVersionId?: Maybe<Scalars['ID']['output']>;
  /** The primary answer: FLAGGED_FOR_REVIEW when any finding reached its operating point, NOTHING_FLAGGED, or NOT_READ when the gate refused the film. Key on this (or flagged), never on label alone. Needs READ_PREDICTIONS. */
  outcome?: Maybe<ReadingOutcome>;
  /** Calibrated probabilities per class. Needs READ_PREDICTIONS. */
  probabilities?: Maybe<Array<ClassProbability>>;
  /** The earlier reading of the same study this one re-read (analyzeStudy with reread: true). */
  rereadOfId?: Maybe<Scalars['ID']['output']>;
  /** The radiologist's review of this prediction (the study's signed read, else the latest correction), compared with it; null before any. */
  review?: Maybe<PredictionReview>;
  /** PRODUCTION, CANARY, SHADOW, or SITE_HOLD (the study's site keeps its previous version: PRODUCTION has not passed the site's rollout gate). */
  route: Scalars['String']['output'];
  /** The site operating point this reading used (temperature, thresholds and the evaluation they rest on), approved for its model version at the study's site; null when it used the shipped one (siteValidated false). Needs READ_PREDICTIONS. */
  siteOperatingPoint?: Maybe<SiteOperatingPoint>;
  /** True when this reading used an operating point validated on its site's own films (an approved site operating point); false: the model's shipped operating point, not validated at this site. */
  siteValidated: Scalars['Boolean']['output'];
  /** The study read. */
  study: Study;
  /** Timings in milliseconds (decode, queue, inference, total). */
  timings: Scalars['JSONObject']['output'];
  /** The standing notice that this is AI assistance requiring clinician review. */
  warning: Scalars['String']['output'];
};

/** A page of Prediction records, newest first. */
export type PredictionConnection = {
  __typename?: 'PredictionConnection';
  /** The records on this page with their cursors. */
  edges: Array<PredictionEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a Prediction connection. */
export type PredictionEdge = {
  __typename?: 'PredictionEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The Prediction. */
  node: Prediction;
};

/** Filters for the predictions list. */
export type PredictionFilter = {
  /** Prediction time. */
  createdAt?: InputMaybe<DateRangeInput>;
  /** Only this gate verdict. */
  gateVerdict?: InputMaybe<GateVerdict>;
  /** Only this most-probable label. */
  label?: InputMaybe<Scalars['String']['input']>;
  /** Only this model version. */
  modelVersionId?: InputMaybe<Scalars['ID']['input']>;
  /** Only this patient. */
  patientId?: InputMaybe<Scalars['ID']['input']>;
  /** Only this study. */
  studyId?: InputMaybe<Scalars['ID']['input']>;
};

/** One image a prediction read, by id and content hash; for models that read each view on its own (wrist v2), also that view's own reading. */
export type PredictionInput = {
  __typename?: 'PredictionInput';
  /** Whether this view alone reached the per-view operating point (the study is flagged when any view does). Needs READ_PREDICTIONS. */
  flagged?: Maybe<Scalars['Boolean']['output']>;
  /** This view's input gate verdict (a refused view is one the study lacks); null for models that read the views together. Needs READ_PREDICTIONS. */
  gateVerdict?: Maybe<GateVerdict>;
  /** Path of this view's own heatmap (PNG) on this API (?overlay=false: the bare map); null when refused or for models that read the views together. Needs READ_PREDICTIONS. */
  heatmapUrl?: Maybe<Scalars['String']['output']>;
  /** Image id. */
  imageId: Scalars['ID']['output'];
  /** This view's calibrated probability of the finding (wrist: FRACTURE); null when refused or for models that read the views together. Needs READ_PREDICTIONS. */
  probability?: Maybe<Scalars['Float']['output']>;
  /** SHA-256 of the file read (hex). */
  sha256: Scalars['String']['output'];
  /** Projection of the image read. */
  view: ImageView;
};

/** A radiologist's review of a prediction: the study's signed read, else the latest correction. */
export type PredictionReview = {
  __typename?: 'PredictionReview';
  /** Agreement with this prediction. */
  agreement: ReviewAgreement;
  /** The correction (source CORRECTION). */
  correctionId?: Maybe<Scalars['ID']['output']>;
  /** Every finding, compared with this prediction. */
  findings: Array<ReadFinding>;
  /** The radiologist's class. */
  label: Scalars['String']['output'];
  /** The final read (source FINAL_READ). */
  readId?: Maybe<Scalars['ID']['output']>;
  /** When the review was recorded. */
  reviewedAt: Scalars['DateTimeISO']['output'];
  /** The radiologist. */
  reviewedById?: Maybe<Scalars['ID']['output']>;
  /** Where the review comes from. */
  source: ReviewSource;
};

/** The site operating point an evaluation proposes. */
export type ProposedOperatingPoint = {
  __typename?: 'ProposedOperatingPoint';
  /** Calibration temperature. */
  temperature: Scalars['Float']['output'];
  /** Per finding. */
  thresholds: Array<SiteThreshold>;
};

/** Reads. Every read of patient data is audited. */
export type Query = {
  __typename?: 'Query';
  /** A batch analysis job and its progress. */
  analysisJob: AnalysisJob;
  /** The audit trail, newest first (admins). Read-only: no mutation can change it. */
  auditEvents: AuditEventConnection;
  /** One clinical note; integrators see approved notes only. Audited. */
  clinicalNote: ClinicalNote;
  /** Clinical notes, newest first; integrators see approved notes only. */
  clinicalNotes: ClinicalNoteConnection;
  /** Recall, specificity and agreement against corrections, by model version and time window. */
  correctionQuality: Array<CorrectionQuality>;
  /** Corrections by radiologists, newest first. */
  corrections: CorrectionConnection;
  /** Drift alerts, newest first. */
  driftAlerts: DriftAlertConnection;
  /** Drift checks (per-signal statistics of each tested window), oldest first. */
  driftChecks: Array<DriftCheck>;
  /** Images, newest first. Audited. */
  images: ImageConnection;
  /** The caller. */
  me: User;
  /** Lineage of a model version: parents, training run, dataset manifest and counts, gate, promotions (admins, radiologists). */
  modelLineage: ModelLineage;
  /** The model registry (admins, radiologists). */
  modelVersions: ModelVersionConnection;
  /** Model versions, throughput, latency and recent predictions (no patient data). */
  monitoringOverview: MonitoringOverview;
  /** Studies on the configured PACS (QIDO-RS), marked when already imported. */
  pacsStudies: Array<PacsStudy>;
  /** One patient by id. Audited. */
  patient: Patient;
  /** Patients, newest first. Audited. */
  patients: PatientConnection;
  /** One prediction by id (roles that read patient data; its clinical fields need READ_PREDICTIONS). Audited. */
  prediction: Prediction;
  /** Predictions, newest first, filtered by study, patient, model version, label, gate verdict or time. Audited. */
  predictions: PredictionConnection;
  /** How a model version stands at a site: validated or not, the approved operating point, the latest evaluation (AUROC, recall/specificity with intervals, calibration, gate refusals), the rollout gate and the validation set's counts (admins, radiologists, integrators; no patient data). */
  siteValidation: SiteValidation;
  /** Every site, the default first (anyone signed in). */
  sites: Array<Site>;
  /** Studies, newest first, filtered by patient, status, body part, priority, time or predicted label. Audited. */
  studies: StudyConnection;
  /** One study by id. Audited. */
  study: Study;
  /** One training run with its phase, metrics and gate verdict. */
  trainingRun: TrainingRun;
  /** Training runs (admins, radiologists). */
  trainingRuns: TrainingRunConnection;
  /** Users (admins). */
  users: UserConnection;
};


/** Reads. Every read of patient data is audited. */
export type QueryAnalysisJobArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. Every read of patient data is audited. */
export type QueryAuditEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<AuditEventFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Reads. Every read of patient data is audited. */
export type QueryClinicalNoteArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. Every read of patient data is audited. */
export type QueryClinicalNotesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  predictionId?: InputMaybe<Scalars['ID']['input']>;
  status?: InputMaybe<NoteStatus>;
};


/** Reads. Every read of patient data is audited. */
export type QueryCorrectionQualityArgs = {
  input: CorrectionQualityInput;
};


/** Reads. Every read of patient data is audited. */
export type QueryCorrectionsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  predictionId?: InputMaybe<Scalars['ID']['input']>;
};


/** Reads. Every read of patient data is audited. */
export type QueryDriftAlertsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  createdAt?: InputMaybe<DateRangeInput>;
  first?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<DriftAlertStatus>;
};


/** Reads. Every read of patient data is audited. */
export type QueryDriftChecksArgs = {
  limit?: Scalars['Int']['input'];
  modelVersionId?: InputMaybe<Scalars['ID']['input']>;
  since?: InputMaybe<Scalars['DateTimeISO']['input']>;
  windowKind?: InputMaybe<DriftWindowKind>;
};


/** Reads. Every read of patient data is audited. */
export type QueryImagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ImageFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Reads. Every read of patient data is audited. */
export type QueryModelLineageArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. Every read of patient data is audited. */
export type QueryModelVersionsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ModelVersionFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Reads. Every read of patient data is audited. */
export type QueryMonitoringOverviewArgs = {
  minutes?: Scalars['Int']['input'];
  recent?: Scalars['Int']['input'];
};


/** Reads. Every read of patient data is audited. */
export type QueryPacsStudiesArgs = {
  filter?: InputMaybe<PacsStudyFilterInput>;
};


/** Reads. Every read of patient data is audited. */
export type QueryPatientArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. Every read of patient data is audited. */
export type QueryPatientsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<PatientFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Reads. Every read of patient data is audited. */
export type QueryPredictionArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. Every read of patient data is audited. */
export type QueryPredictionsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<PredictionFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Reads. Every read of patient data is audited. */
export type QuerySiteValidationArgs = {
  modelVersionId: Scalars['ID']['input'];
  siteId: Scalars['ID']['input'];
};


/** Reads. Every read of patient data is audited. */
export type QueryStudiesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<StudyFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/** Reads. Every read of patient data is audited. */
export type QueryStudyArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. Every read of patient data is audited. */
export type QueryTrainingRunArgs = {
  id: Scalars['ID']['input'];
};


/** Reads. Every read of patient data is audited. */
export type QueryTrainingRunsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  task?: InputMaybe<ModelTask>;
};


/** Reads. Every read of patient data is audited. */
export type QueryUsersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** One finding of a radiologist's read, compared with the AI. */
export type ReadFinding = {
  __typename?: 'ReadFinding';
  /** Whether the radiologist agrees with the AI on it; null when the AI made no diagnosis. */
  agreesWithAi?: Maybe<Scalars['Boolean']['output']>;
  /** Whether the AI flagged it; null when the AI made no diagnosis. */
  aiFlagged?: Maybe<Scalars['Boolean']['output']>;
  /** Finding label. */
  label: Scalars['String']['output'];
  /** True when the radiologist states it present. */
  present: Scalars['Boolean']['output'];
};

/** One finding as the radiologist reads it. */
export type ReadFindingInput = {
  /** Finding label of the task (chest: PNEUMONIA, TUBERCULOSIS; wrist: FRACTURE). */
  label: Scalars['String']['input'];
  /** True when the radiologist sees it, false when not (agreeing or correcting the AI). */
  present: Scalars['Boolean']['input'];
};

/** The one answer of an AI reading to key on. */
export type ReadingOutcome =
  /** At least one finding reached its operating point: the study is flagged for review. */
  | 'FLAGGED_FOR_REVIEW'
  /** No finding reached its operating point (the AI may still miss disease). */
  | 'NOTHING_FLAGGED'
  /** The input gate refused the film: no diagnosis was made. */
  | 'NOT_READ';

/** Where a label of a site's validation set comes from. */
export type ReferenceLabelSource =
  /** A radiologist's correction made before a read was signed. */
  | 'CORRECTION'
  /** The radiologist's signed final read (or its amendment). */
  | 'FINAL_READ'
  /** Imported by an admin or a radiologist (addSiteValidationStudies). */
  | 'IMPORTED';

/** How many labels of a validation set came from one source. */
export type ReferenceSourceCount = {
  __typename?: 'ReferenceSourceCount';
  /** Count. */
  n: Scalars['Int']['output'];
  /** Where the labels came from. */
  source: ReferenceLabelSource;
};

/** Who changed the model registry (no contact details). */
export type RegistryActor = {
  __typename?: 'RegistryActor';
  /** Name shown in the interface. */
  displayName: Scalars['String']['output'];
  /** User id. */
  id: Scalars['ID']['output'];
  /** Role of the user. */
  role: Role;
};

/** One bin of a reliability curve: mean top-class confidence against how often the top class was right. */
export type ReliabilityBin = {
  __typename?: 'ReliabilityBin';
  /** Share of the bin whose top class was the reference label. */
  accuracy: Scalars['Float']['output'];
  /** Bin index (tenths of confidence). */
  bin: Scalars['Int']['output'];
  /** Mean confidence of the bin. */
  confidence: Scalars['Float']['output'];
  /** Studies in the bin. */
  n: Scalars['Int']['output'];
};

/** How a radiologist review relates to the AI reading beside it. */
export type ReviewAgreement =
  /** Every finding matches what the AI flagged. */
  | 'AGREED'
  /** At least one finding differs from what the AI flagged. */
  | 'CORRECTED'
  /** No accepted AI reading to compare with. */
  | 'NO_AI_RESULT';

/** Where a radiologist's review of a prediction comes from. */
export type ReviewSource =
  /** A correction recorded before any read was signed (submitCorrection). */
  | 'CORRECTION'
  /** The study's signed final read (or its latest amendment). */
  | 'FINAL_READ';

/** One point of a ROC curve. */
export type RocPoint = {
  __typename?: 'RocPoint';
  /** False-positive rate (1 - specificity). */
  fpr: Scalars['Float']['output'];
  /** Threshold on the calibrated probability. */
  threshold: Scalars['Float']['output'];
  /** True-positive rate (recall). */
  tpr: Scalars['Float']['output'];
};

/** Role of a user; decides what it may read and do. */
export type Role =
  /** Manages users and models; reads the audit trail. */
  | 'ADMIN'
  /** A system that reads results and subscribes to events. */
  | 'INTEGRATOR'
  /** Reads predictions, corrects them and approves notes. */
  | 'RADIOLOGIST'
  /** Registers patients and studies and uploads images. */
  | 'TECHNICIAN';

/** Administrative sex as recorded by the hospital. */
export type Sex =
  /** Female. */
  | 'FEMALE'
  /** Male. */
  | 'MALE'
  /** Other. */
  | 'OTHER'
  /** Not recorded. */
  | 'UNKNOWN';

/** The radiologist's final read of a study. */
export type SignFinalReadInput = {
  /** Conclusion in free text (at most 4000 characters). */
  conclusion?: InputMaybe<Scalars['String']['input']>;
  /** Every finding of the task, present or absent (BAD_USER_INPUT when one is missing). */
  findings: Array<ReadFindingInput>;
  /** Study id. */
  studyId: Scalars['ID']['input'];
};

/** A hospital or department whose studies the models read. Model operating points are validated per site, on its own labelled films. */
export type Site = {
  __typename?: 'Site';
  /** Short stable code. */
  code: Scalars['String']['output'];
  /** When it was registered. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** The site of a fresh install; studies registered without a site belong to it. */
  isDefault: Scalars['Boolean']['output'];
  /** Name shown to users. */
  name: Scalars['String']['output'];
};

/** An evaluation of a model version on a site's validation set: AUROC, recall and specificity at the shipped and site operating points with bootstrap intervals, calibration, the input gate's refusals and the counts they rest on. */
export type SiteEvaluation = {
  __typename?: 'SiteEvaluation';
  /** Studies read per reference label. */
  counts: Array<LabelCount>;
  /** When it was queued. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Expected calibration error (top class, 10 bins) at the temperature used. */
  ece?: Maybe<Scalars['Float']['output']>;
  /** Why it failed (an error code). */
  error?: Maybe<Scalars['String']['output']>;
  /** Ids and counts behind the error. */
  errorDetails?: Maybe<Scalars['JSONObject']['output']>;
  /** Per finding. */
  findings: Array<SiteFindingEvaluation>;
  /** When it finished. */
  finishedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** The input gate's refusals. */
  gateRefused?: Maybe<SiteGateRefusals>;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** Model version id. */
  modelVersionId: Scalars['ID']['output'];
  /** Labelled studies read. */
  n: Scalars['Int']['output'];
  /** Distinct patients read. */
  patients?: Maybe<Scalars['Int']['output']>;
  /** The site operating point it proposes (approveSiteOperatingPoint makes it the site one). */
  proposedOperatingPoint?: Maybe<ProposedOperatingPoint>;
  /** Reliability curve at the temperature used. */
  reliability: Array<ReliabilityBin>;
  /** Site id. */
  siteId: Scalars['ID']['output'];
  /** Labelled studies it could not read (left out). */
  skipped: Array<SkippedStudy>;
  /** When a worker started it. */
  startedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** Where the job is. */
  status: SiteEvaluationStatus;
  /** Recall target asked for; null: each finding's shipped target. */
  targetRecall?: Maybe<Scalars['Float']['output']>;
  /** Task. */
  task: ModelTask;
  /** Calibration temperatures. */
  temperature?: Maybe<SiteTemperature>;
  /** Why it ran. */
  trigger: SiteEvaluationTrigger;
};

/** State of an evaluation of a model version on a site's validation set. */
export type SiteEvaluationStatus =
  /** Could not be measured (see error). */
  | 'FAILED'
  /** Waiting for a worker. */
  | 'QUEUED'
  /** Reading the labelled studies. */
  | 'RUNNING'
  /** Measured; it proposes a site operating point. */
  | 'SUCCEEDED';

/** Why a site evaluation ran. */
export type SiteEvaluationTrigger =
  /** The version was promoted to PRODUCTION (the per-site rollout gate). */
  | 'PROMOTION'
  /** An admin asked for it (evaluateSite). */
  | 'REQUESTED';

/** How a model version reads one finding on a site. */
export type SiteFindingEvaluation = {
  __typename?: 'SiteFindingEvaluation';
  /** AUROC against the negative class. */
  auroc: Estimate;
  /** Finding label. */
  label: Scalars['String']['output'];
  /** The ROC curve (at most about 50 points). */
  roc: Array<RocPoint>;
  /** At the shipped operating point (model.json's temperature and threshold). */
  shipped: OperatingPointMeasure;
  /** At the proposed site operating point (measured in-sample). */
  site: OperatingPointMeasure;
};

/** The input gate's refusals on the site's films. */
export type SiteGateRefusals = {
  __typename?: 'SiteGateRefusals';
  /** Refusals per verdict. */
  byVerdict: Array<VerdictCount>;
  /** Films refused. */
  n: Scalars['Int']['output'];
  /** Share of the films read. */
  rate: Scalars['Float']['output'];
};

/** A site operating point an admin approved for a model version: the temperature and thresholds the site's predictions by that version use. */
export type SiteOperatingPoint = {
  __typename?: 'SiteOperatingPoint';
  /** When it was approved. */
  approvedAt: Scalars['DateTimeISO']['output'];
  /** The admin who approved it. */
  approvedById?: Maybe<Scalars['ID']['output']>;
  /** The evaluation it rests on (READ_SITE_VALIDATION). */
  evaluation: SiteEvaluation;
  /** The evaluation it rests on (see siteValidation). */
  evaluationId: Scalars['ID']['output'];
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** Model version id. */
  modelVersionId: Scalars['ID']['output'];
  /** Site id. */
  siteId: Scalars['ID']['output'];
  /** When a later approval replaced it; null while in force. */
  supersededAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** Calibration temperature. */
  temperature: Scalars['Float']['output'];
  /** Per finding, with its source and guarantee. */
  thresholds: Array<SiteThreshold>;
};

/** The per-site rollout gate of a version promoted to PRODUCTION: until it passes, the site keeps the version that served it. */
export type SiteRolloutGate = {
  __typename?: 'SiteRolloutGate';
  /** The promoted version. */
  candidateId: Scalars['ID']['output'];
  /** When the gate was opened. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** When it was decided. */
  decidedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** The evaluation that decided it. */
  evaluationId?: Maybe<Scalars['ID']['output']>;
  /** The version the site keeps while the gate is not PASSED. */
  fallbackId?: Maybe<Scalars['ID']['output']>;
  /** Per finding the site validated. */
  findings: Array<GateFinding>;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** Why, beyond the findings (e.g. OPERATING_POINT_APPROVED). */
  reason?: Maybe<Scalars['String']['output']>;
  /** PENDING, PASSED or FAILED. */
  status: SiteRolloutGateStatus;
};

/** The per-site rollout gate of a version promoted to PRODUCTION. */
export type SiteRolloutGateStatus =
  /** It fell below the site's approved recall, or could not be evaluated: the site keeps its previous version. */
  | 'FAILED'
  /** It reached the site's approved recall (or its site operating point was approved): it serves the site. */
  | 'PASSED'
  /** Being evaluated on the site: the site keeps its previous version. */
  | 'PENDING';

/** Calibration temperature: the shipped one, one fitted on half the site patients, and the one used (the site one only where it lowered ECE on the other half). */
export type SiteTemperature = {
  __typename?: 'SiteTemperature';
  /** ECE of the shipped temperature on the held-out half. */
  eceShipped: Scalars['Float']['output'];
  /** ECE of the site temperature on the held-out half. */
  eceSite: Scalars['Float']['output'];
  /** The rule that chose it. */
  rule: Scalars['String']['output'];
  /** model.json's temperature. */
  shipped: Scalars['Float']['output'];
  /** Fitted on half the site patients. */
  site: Scalars['Float']['output'];
  /** The one the site operating point uses. */
  used: Scalars['Float']['output'];
};

/** One finding's threshold in a site operating point and its evidence. */
export type SiteThreshold = {
  __typename?: 'SiteThreshold';
  /** The guarantee in words, or why there is none. */
  guarantee: Scalars['String']['output'];
  /** Finding label. */
  label: Scalars['String']['output'];
  /** Site positives of the finding. */
  nPositives: Scalars['Int']['output'];
  /** k of the conformal order statistic (the k-th smallest positive probability); null when shipped. */
  orderStatisticK?: Maybe<Scalars['Int']['output']>;
  /** More positives the guarantee needs (0 when it holds). */
  positivesNeeded: Scalars['Int']['output'];
  /** Chosen on the site positives, or the shipped one kept. */
  source: ThresholdSource;
  /** Recall target of the guarantee. */
  targetRecall: Scalars['Float']['output'];
  /** Threshold on the calibrated probability. */
  value: Scalars['Float']['output'];
};

/** How a model version stands at a site: whether it is validated there (an approved site operating point), the latest evaluation, the rollout gate and the validation set it rests on. Aggregates only: no patient data. */
export type SiteValidation = {
  __typename?: 'SiteValidation';
  /** The latest evaluation (any status). */
  latestEvaluation?: Maybe<SiteEvaluation>;
  /** The model version. */
  modelVersion: ModelVersion;
  /** The approved site operating point in force. */
  operatingPoint?: Maybe<SiteOperatingPoint>;
  /** The version's rollout gate at this site, if one was opened. */
  rolloutGate?: Maybe<SiteRolloutGate>;
  /** The site. */
  site: Site;
  /** True when an admin approved a site operating point for this version at this site: its predictions there use it and say siteValidated. */
  validated: Scalars['Boolean']['output'];
  /** The site's labelled studies of the version's task. */
  validationSet: SiteValidationSet;
};

/** What changed in a site's validation status. */
export type SiteValidationChange =
  /** An evaluation failed. */
  | 'EVALUATION_FAILED'
  /** An evaluation was queued. */
  | 'EVALUATION_QUEUED'
  /** An evaluation finished and proposes an operating point. */
  | 'EVALUATION_SUCCEEDED'
  /** An admin approved a site operating point: the site is validated. */
  | 'OPERATING_POINT_APPROVED'
  /** A promoted version failed the site gate: the site keeps its previous version. */
  | 'ROLLOUT_GATE_FAILED'
  /** A promoted version passed the site gate and serves the site. */
  | 'ROLLOUT_GATE_PASSED'
  /** A promoted version waits for its evaluation before it serves the site. */
  | 'ROLLOUT_GATE_PENDING';

/** A site's validation status for a model version changed. */
export type SiteValidationEvent = {
  __typename?: 'SiteValidationEvent';
  /** What changed. */
  change: SiteValidationChange;
  /** The evaluation concerned, if any. */
  evaluationId?: Maybe<Scalars['ID']['output']>;
  /** The status as it is now. */
  validation: SiteValidation;
};

/** A site's labelled studies for one task (imported labels and radiologists' reads), counted; no patient data. */
export type SiteValidationSet = {
  __typename?: 'SiteValidationSet';
  /** Studies per reference label. */
  counts: Array<LabelCount>;
  /** Labelled studies. */
  n: Scalars['Int']['output'];
  /** Distinct patients (the unit resampling groups by). */
  patients: Scalars['Int']['output'];
  /** Site id. */
  siteId: Scalars['ID']['output'];
  /** Labels per source. */
  sources: Array<ReferenceSourceCount>;
  /** Task of the studies. */
  task: ModelTask;
};

/** A study already in the system and its reference label for a site's validation set. */
export type SiteValidationStudyInput = {
  /** Reference class: one of the study's task classes (chest: NORMAL, PNEUMONIA, TUBERCULOSIS). */
  label: Scalars['String']['input'];
  /** Study id (a study of the site, with a film). */
  studyId: Scalars['ID']['input'];
};

/** A labelled study an evaluation could not read. */
export type SkippedStudy = {
  __typename?: 'SkippedStudy';
  /** Why (an error code such as NO_FILMS, WRIST_VIEWS_REQUIRED). */
  code: Scalars['String']['output'];
  /** Study id. */
  studyId: Scalars['ID']['output'];
};

/** One imaging examination of one patient. */
export type Study = {
  __typename?: 'Study';
  /** Accession number assigned by the RIS; unique. */
  accessionNumber: Scalars['String']['output'];
  /** Anatomy examined. */
  bodyPart: BodyPart;
  /** When the study was registered. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Free-text description from the order. */
  description?: Maybe<Scalars['String']['output']>;
  /** The radiologist's read in force (the final read or its latest amendment); null before one is signed (radiologists, integrators). */
  finalRead?: Maybe<FinalRead>;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** Images attached to the study, oldest first. */
  images: Array<Image>;
  /** The patient examined. Audited. */
  patient: Patient;
  /** AI predictions for the study, newest first (roles that read patient data; clinical fields need READ_PREDICTIONS). */
  predictions: Array<Prediction>;
  /** Reading priority. */
  priority: StudyPriority;
  /** The site (hospital or department) it belongs to (see sites). */
  siteId: Scalars['ID']['output'];
  /** Where the study is in its lifecycle. */
  status: StudyStatus;
  /** DICOM Study Instance UID when known. */
  studyInstanceUid?: Maybe<Scalars['String']['output']>;
  /** When the study last changed. */
  updatedAt: Scalars['DateTimeISO']['output'];
};

/** A page of Study records, newest first. */
export type StudyConnection = {
  __typename?: 'StudyConnection';
  /** The records on this page with their cursors. */
  edges: Array<StudyEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a Study connection. */
export type StudyEdge = {
  __typename?: 'StudyEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The Study. */
  node: Study;
};

/** Something happened to a study. */
export type StudyEvent = {
  __typename?: 'StudyEvent';
  /** CREATED, UPDATED, IMAGE_ATTACHED, ANALYZED, REVIEW_STARTED, FINAL_READ_SIGNED or READ_AMENDED. */
  change: Scalars['String']['output'];
  /** The study as it is now. */
  study: Study;
};

/** Why one study of a batch job failed. */
export type StudyFailure = {
  __typename?: 'StudyFailure';
  /** Error code, e.g. WRIST_VIEWS_REQUIRED. */
  code: Scalars['String']['output'];
  /** Study id. */
  studyId: Scalars['ID']['output'];
};

/** Filters for the studies list. */
export type StudyFilter = {
  /** Exact accession number. */
  accessionNumber?: InputMaybe<Scalars['String']['input']>;
  /** Only studies with a served AI reading that flagged this finding for review. */
  aiFinding?: InputMaybe<Scalars['String']['input']>;
  /** Only this body part. */
  bodyPart?: InputMaybe<BodyPart>;
  /** Registration time. */
  createdAt?: InputMaybe<DateRangeInput>;
  /** Only studies whose radiologist's read in force states this finding present. */
  finalFinding?: InputMaybe<Scalars['String']['input']>;
  /** Only studies whose radiologist's read in force amounts to this class (e.g. NORMAL). */
  finalLabel?: InputMaybe<Scalars['String']['input']>;
  /** Only studies with a served AI reading whose top-1 class is this (see aiFinding). */
  label?: InputMaybe<Scalars['String']['input']>;
  /** Only this patient. */
  patientId?: InputMaybe<Scalars['ID']['input']>;
  /** Only this priority. */
  priority?: InputMaybe<StudyPriority>;
  /** Only studies of this site. */
  siteId?: InputMaybe<Scalars['ID']['input']>;
  /** Only this status. */
  status?: InputMaybe<StudyStatus>;
};

/** Reading priority: STAT before URGENT before ROUTINE. */
export type StudyPriority =
  /** Routine reading. */
  | 'ROUTINE'
  /** Immediate: read first. */
  | 'STAT'
  /** Urgent: read before routine studies. */
  | 'URGENT';

/** The prediction one study of a batch job got. */
export type StudyResult = {
  __typename?: 'StudyResult';
  /** Prediction id. */
  predictionId: Scalars['ID']['output'];
  /** Study id. */
  studyId: Scalars['ID']['output'];
};

/** Reading workflow of a study: REGISTERED → IMAGES_ATTACHED → ANALYZED → IN_REVIEW → FINAL → AMENDED. */
export type StudyStatus =
  /** The signed read was amended (amendFinalRead); the latest read is in force. */
  | 'AMENDED'
  /** AI second reading recorded; awaiting the radiologist. */
  | 'ANALYZED'
  /** AI analysis in progress. */
  | 'ANALYZING'
  /** The AI analysis failed; a radiologist can still read the study. */
  | 'FAILED'
  /** The radiologist's final read is signed (signFinalRead). */
  | 'FINAL'
  /** Images attached, not analysed (technicians). */
  | 'IMAGES_ATTACHED'
  /** A radiologist opened the study for reading (startReview). */
  | 'IN_REVIEW'
  /** Registered, no images yet (technicians). */
  | 'REGISTERED';

/** A radiologist's correction of a prediction. */
export type SubmitCorrectionInput = {
  /** Free-text comment (at most 2000 characters). */
  comment?: InputMaybe<Scalars['String']['input']>;
  /** The true label: one of the task classes (chest: NORMAL, PNEUMONIA, TUBERCULOSIS; wrist: NO_FRACTURE, FRACTURE). */
  label: Scalars['String']['input'];
  /** The corrected prediction. */
  predictionId: Scalars['ID']['input'];
};

/** Live events over graphql-ws at the same /graphql endpoint. */
export type Subscription = {
  __typename?: 'Subscription';
  /** Progress of batch analysis jobs; optionally of one job. */
  analysisJobUpdated: AnalysisJob;
  /** A drift alert was raised; optionally only for one model version. */
  driftDetected: DriftAlert;
  /** A model version changed stage or canary share; optionally only for one task. */
  modelVersionChanged: ModelVersionChange;
  /** Text of note drafts for one prediction as generateNote writes them; the last event of a draft has done: true. */
  noteDraftStreamed: NoteDraftChunk;
  /** A prediction was recorded; optionally only for one patient or one study. Its clinical fields need READ_PREDICTIONS (others get FORBIDDEN on those fields only). */
  predictionCompleted: Prediction;
  /** A site's validation status changed (evaluation queued, finished or failed; operating point approved; rollout gate pending, passed or failed); optionally one site only. */
  siteValidationChanged: SiteValidationEvent;
  /** Study created, changed or given an image; optionally for one patient. */
  studyEvents: StudyEvent;
};


/** Live events over graphql-ws at the same /graphql endpoint. */
export type SubscriptionAnalysisJobUpdatedArgs = {
  jobId?: InputMaybe<Scalars['ID']['input']>;
};


/** Live events over graphql-ws at the same /graphql endpoint. */
export type SubscriptionDriftDetectedArgs = {
  modelVersionId?: InputMaybe<Scalars['ID']['input']>;
};


/** Live events over graphql-ws at the same /graphql endpoint. */
export type SubscriptionModelVersionChangedArgs = {
  task?: InputMaybe<ModelTask>;
};


/** Live events over graphql-ws at the same /graphql endpoint. */
export type SubscriptionNoteDraftStreamedArgs = {
  predictionId: Scalars['ID']['input'];
};


/** Live events over graphql-ws at the same /graphql endpoint. */
export type SubscriptionPredictionCompletedArgs = {
  patientId?: InputMaybe<Scalars['ID']['input']>;
  studyId?: InputMaybe<Scalars['ID']['input']>;
};


/** Live events over graphql-ws at the same /graphql endpoint. */
export type SubscriptionSiteValidationChangedArgs = {
  siteId?: InputMaybe<Scalars['ID']['input']>;
};


/** Live events over graphql-ws at the same /graphql endpoint. */
export type SubscriptionStudyEventsArgs = {
  patientId?: InputMaybe<Scalars['ID']['input']>;
};

/** Where a finding's threshold in a site operating point comes from. */
export type ThresholdSource =
  /** The model's shipped threshold: the site had too few positives for the guarantee. */
  | 'SHIPPED'
  /** Chosen on the site's own positives, with a finite-sample recall guarantee. */
  | 'SITE';

/** Predictions recorded in one time bucket and their latency. */
export type ThroughputBucket = {
  __typename?: 'ThroughputBucket';
  /** Median end-to-end analysis time (ms). */
  p50Ms?: Maybe<Scalars['Float']['output']>;
  /** 95th percentile end-to-end analysis time (ms). */
  p95Ms?: Maybe<Scalars['Float']['output']>;
  /** Predictions recorded (all gate verdicts, shadow reads excluded). */
  predictions: Scalars['Int']['output'];
  /** Of which the gate refused. */
  refused: Scalars['Int']['output'];
  /** Start of the bucket. */
  start: Scalars['DateTimeISO']['output'];
};

/** A training run with parameters, lineage and gate verdict. */
export type TrainingRun = {
  __typename?: 'TrainingRun';
  /** Version label the candidate gets when registered. */
  candidateVersion?: Maybe<Scalars['String']['output']>;
  /** Code version (git revision) that trained. */
  codeVersion?: Maybe<Scalars['String']['output']>;
  /** Corrections included in the dataset. */
  correctionsUsed: Scalars['Int']['output'];
  /** When the run was requested. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Counts per split and label. */
  datasetCounts?: Maybe<Scalars['JSONObject']['output']>;
  /** Failure reason, if it failed. */
  error?: Maybe<Scalars['String']['output']>;
  /** When training finished. */
  finishedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** Recall gate verdict and its numbers. */
  gateVerdict?: Maybe<Scalars['JSONObject']['output']>;
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** SHA-256 of the dataset manifest. */
  manifestSha256?: Maybe<Scalars['String']['output']>;
  /** Evaluation metrics. */
  metrics?: Maybe<Scalars['JSONObject']['output']>;
  /** Hyper-parameters and options. */
  parameters: Scalars['JSONObject']['output'];
  /** Step reached while running: ASSEMBLING, TRAINING, EVALUATING, REGISTERING. */
  phase?: Maybe<Scalars['String']['output']>;
  /** Where the trainer ran: local or ray. */
  runner?: Maybe<Scalars['String']['output']>;
  /** When training started. */
  startedAt?: Maybe<Scalars['DateTimeISO']['output']>;
  /** State of the run. */
  status: TrainingRunStatus;
  /** Reading task trained. */
  task: ModelTask;
  /** What started it: MANUAL (an admin), AUTO (new corrections) or CLI. */
  trigger: Scalars['String']['output'];
};

/** A page of TrainingRun records, newest first. */
export type TrainingRunConnection = {
  __typename?: 'TrainingRunConnection';
  /** The records on this page with their cursors. */
  edges: Array<TrainingRunEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a TrainingRun connection. */
export type TrainingRunEdge = {
  __typename?: 'TrainingRunEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The TrainingRun. */
  node: TrainingRun;
};

/** State of a training run. */
export type TrainingRunStatus =
  /** Stopped by an error. */
  | 'FAILED'
  /** Waiting for a worker. */
  | 'QUEUED'
  /** Trained but failed the gate; not registered. */
  | 'REJECTED'
  /** Training or evaluating. */
  | 'RUNNING'
  /** Passed the recall gate and was registered. */
  | 'SUCCEEDED';

/** Changes to a patient; omitted fields stay as they are. */
export type UpdatePatientInput = {
  /** New birth date as YYYY-MM-DD. */
  birthDate?: InputMaybe<Scalars['String']['input']>;
  /** New family name. */
  familyName?: InputMaybe<Scalars['String']['input']>;
  /** New given name. */
  givenName?: InputMaybe<Scalars['String']['input']>;
  /** New administrative sex. */
  sex?: InputMaybe<Sex>;
};

/** Changes to a study; omitted fields stay as they are. */
export type UpdateStudyInput = {
  /** New description. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** New priority. */
  priority?: InputMaybe<StudyPriority>;
};

/** Uploads a small image inline (base64) and attaches it; limited by MAX_BASE64_UPLOAD_BYTES. */
export type UploadImageBase64Input = {
  /** The file, base64-encoded. */
  dataBase64: Scalars['String']['input'];
  /** Accepts named mismatches of a DICOM file's header with the study (audited). */
  override?: InputMaybe<IntakeOverrideInput>;
  /** Study id. */
  studyId: Scalars['ID']['input'];
  /** Projection of the image. */
  view: ImageView;
};

/** A person or integration client that holds tokens. */
export type User = {
  __typename?: 'User';
  /** False once deactivated; tokens of inactive users are refused. */
  active: Scalars['Boolean']['output'];
  /** When the user was created. */
  createdAt: Scalars['DateTimeISO']['output'];
  /** Name shown in the interface. */
  displayName: Scalars['String']['output'];
  /** Login e-mail address. */
  email: Scalars['String']['output'];
  /** Stable identifier. */
  id: Scalars['ID']['output'];
  /** What the user's role may do (the policy table's permissions), e.g. for a front-end to show only that. */
  permissions: Array<Scalars['String']['output']>;
  /** Role that decides what this user may do. */
  role: Role;
};

/** A page of User records, newest first. */
export type UserConnection = {
  __typename?: 'UserConnection';
  /** The records on this page with their cursors. */
  edges: Array<UserEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** Number of records matching the filter (all pages). */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a User connection. */
export type UserEdge = {
  __typename?: 'UserEdge';
  /** Opaque cursor of this edge. */
  cursor: Scalars['String']['output'];
  /** The User. */
  node: User;
};

/** Films the input gate refused with one verdict. */
export type VerdictCount = {
  __typename?: 'VerdictCount';
  /** Count. */
  n: Scalars['Int']['output'];
  /** Gate verdict. */
  verdict: GateVerdict;
};

/** Attaches an uploaded file to a study. */
export type AttachImageInput = {
  /** Accepts named mismatches of a DICOM file's header with the study (audited); without it a mismatch is refused with its code. */
  override?: IntakeOverrideInput | null | undefined;
  /** Study id. */
  studyId: string | number;
  /** uploadId returned by POST /uploads. */
  uploadId: string | number;
  /** Projection of the image. */
  view: ImageView;
};

/** Anatomy a study covers; decides which model reads it. */
export type BodyPart =
  /** Chest radiograph (pulmonary model). */
  | 'CHEST'
  /** Wrist radiographs, PA and lateral (fracture model). */
  | 'WRIST';

/** Which corrections to measure and how to cut the period into windows. */
export type CorrectionQualityInput = {
  /** Window length in seconds (60 to 31622400); windows are aligned to the Unix epoch. */
  bucketSeconds?: number;
  /** Inclusive start of the period (correction time). */
  from: string;
  /** Only this model version. */
  modelVersionId?: string | number | null | undefined;
  /** Only this task. */
  task?: ModelTask | null | undefined;
  /** Exclusive end of the period. */
  to: string;
};

/** Registers a patient. */
export type CreatePatientInput = {
  /** Birth date as YYYY-MM-DD. */
  birthDate?: string | null | undefined;
  /** Family name. */
  familyName: string;
  /** Given name. */
  givenName: string;
  /** Medical record number; unique. */
  mrn: string;
  /** Administrative sex (default UNKNOWN). */
  sex?: Sex | null | undefined;
};

/** Registers a study for a patient. */
export type CreateStudyInput = {
  /** Accession number from the RIS; unique. */
  accessionNumber: string;
  /** Anatomy examined. */
  bodyPart: BodyPart;
  /** Free-text description. */
  description?: string | null | undefined;
  /** Patient id. */
  patientId: string | number;
  /** Reading priority (default ROUTINE). */
  priority?: StudyPriority | null | undefined;
  /** Site (hospital or department) the study belongs to; the default site when omitted. */
  siteId?: string | number | null | undefined;
  /** DICOM Study Instance UID, if known. */
  studyInstanceUid?: string | null | undefined;
};

/** A time interval; either end may be open. */
export type DateRangeInput = {
  /** Inclusive start. */
  from?: string | null | undefined;
  /** Exclusive end. */
  to?: string | null | undefined;
};

/** State of a drift alert. */
export type DriftAlertStatus =
  /** Seen by a person. */
  | 'ACKNOWLEDGED'
  /** Raised, not yet handled. */
  | 'OPEN'
  /** Handled. */
  | 'RESOLVED';

/** How a drift window was cut from the accepted predictions of a model version. */
export type DriftWindowKind =
  /** Every DRIFT_WINDOW_SIZE accepted predictions (tumbling). */
  | 'COUNT'
  /** The accepted predictions of each DRIFT_TIME_WINDOW_MINUTES period. */
  | 'TIME';

/** Verdict of the input gate that runs before any diagnosis. */
export type GateVerdict =
  /** A readable radiograph of the expected body part: a diagnosis was made. */
  | 'ACCEPTED'
  /** Too poor to read reliably: refused. */
  | 'LOW_QUALITY'
  /** Not a radiograph (photo, document, other modality): refused. */
  | 'NOT_A_RADIOGRAPH'
  /** A radiograph of another body part: refused. */
  | 'WRONG_BODY_PART';

/** Container format of an uploaded file. */
export type ImageFormat =
  /** DICOM Part 10 file. */
  | 'DICOM'
  /** JPEG. */
  | 'JPEG'
  /** PNG, 8 or 16 bits. */
  | 'PNG';

/** Radiographic projection of an image. */
export type ImageView =
  /** Anteroposterior projection. */
  | 'AP'
  /** Lateral projection. */
  | 'LATERAL'
  /** Oblique projection. */
  | 'OBLIQUE'
  /** Posteroanterior projection. */
  | 'PA';

/** A way a DICOM file's header contradicts the study it is attached to (also the error code that refuses it). */
export type IntakeMismatch =
  /** Accession Number is not the study's. */
  | 'ACCESSION_MISMATCH'
  /** Body Part Examined is not the study's body part. */
  | 'BODY_PART_MISMATCH'
  /** Issuer of Patient ID is not DICOM_PATIENT_ID_ISSUER. */
  | 'PATIENT_ID_ISSUER_MISMATCH'
  /** Patient ID is not the study patient's MRN. */
  | 'PATIENT_MISMATCH'
  /** Study Instance UID is not the study's. */
  | 'STUDY_UID_MISMATCH'
  /** View Position is not the view given. */
  | 'VIEW_MISMATCH';

/** Accepts named mismatches between a DICOM file's header and its study (audited, recorded on the image). */
export type IntakeOverrideInput = {
  /** Every mismatch to accept; any other still refuses the file. */
  accept: Array<IntakeMismatch>;
  /** Why the file belongs to this study anyway (at most 1000 characters). */
  reason: string;
};

/** Rollout stage of a model version. */
export type ModelStage =
  /** Retired; kept for lineage. */
  | 'ARCHIVED'
  /** Serving a configured share of studies. */
  | 'CANARY'
  /** Serving all other studies. */
  | 'PRODUCTION'
  /** Registered, serving no traffic. */
  | 'STAGING';

/** Which reading task a model serves. */
export type ModelTask =
  /** Chest: NORMAL, PNEUMONIA, TUBERCULOSIS. */
  | 'CHEST'
  /** Wrist: fracture or no fracture from two views. */
  | 'WRIST';

/** Who a clinical note is written for. */
export type NoteAudience =
  /** Technical language for clinicians. */
  | 'CLINICIAN'
  /** Plain language for the patient. */
  | 'PATIENT';

/** Review state of a clinical note. */
export type NoteStatus =
  /** Approved by a radiologist; releasable. */
  | 'APPROVED'
  /** Not yet reviewed; not visible to integrators. */
  | 'DRAFT'
  /** A later radiologist read or correction states other findings: the note no longer applies (see invalidationReason). */
  | 'INVALIDATED'
  /** Rejected by a radiologist. */
  | 'REJECTED';

/** Where a label of a site's validation set comes from. */
export type ReferenceLabelSource =
  /** A radiologist's correction made before a read was signed. */
  | 'CORRECTION'
  /** The radiologist's signed final read (or its amendment). */
  | 'FINAL_READ'
  /** Imported by an admin or a radiologist (addSiteValidationStudies). */
  | 'IMPORTED';

/** Role of a user; decides what it may read and do. */
export type Role =
  /** Manages users and models; reads the audit trail. */
  | 'ADMIN'
  /** A system that reads results and subscribes to events. */
  | 'INTEGRATOR'
  /** Reads predictions, corrects them and approves notes. */
  | 'RADIOLOGIST'
  /** Registers patients and studies and uploads images. */
  | 'TECHNICIAN';

/** Administrative sex as recorded by the hospital. */
export type Sex =
  /** Female. */
  | 'FEMALE'
  /** Male. */
  | 'MALE'
  /** Other. */
  | 'OTHER'
  /** Not recorded. */
  | 'UNKNOWN';

/** State of an evaluation of a model version on a site's validation set. */
export type SiteEvaluationStatus =
  /** Could not be measured (see error). */
  | 'FAILED'
  /** Waiting for a worker. */
  | 'QUEUED'
  /** Reading the labelled studies. */
  | 'RUNNING'
  /** Measured; it proposes a site operating point. */
  | 'SUCCEEDED';

/** Why a site evaluation ran. */
export type SiteEvaluationTrigger =
  /** The version was promoted to PRODUCTION (the per-site rollout gate). */
  | 'PROMOTION'
  /** An admin asked for it (evaluateSite). */
  | 'REQUESTED';

/** The per-site rollout gate of a version promoted to PRODUCTION. */
export type SiteRolloutGateStatus =
  /** It fell below the site's approved recall, or could not be evaluated: the site keeps its previous version. */
  | 'FAILED'
  /** It reached the site's approved recall (or its site operating point was approved): it serves the site. */
  | 'PASSED'
  /** Being evaluated on the site: the site keeps its previous version. */
  | 'PENDING';

/** What changed in a site's validation status. */
export type SiteValidationChange =
  /** An evaluation failed. */
  | 'EVALUATION_FAILED'
  /** An evaluation was queued. */
  | 'EVALUATION_QUEUED'
  /** An evaluation finished and proposes an operating point. */
  | 'EVALUATION_SUCCEEDED'
  /** An admin approved a site operating point: the site is validated. */
  | 'OPERATING_POINT_APPROVED'
  /** A promoted version failed the site gate: the site keeps its previous version. */
  | 'ROLLOUT_GATE_FAILED'
  /** A promoted version passed the site gate and serves the site. */
  | 'ROLLOUT_GATE_PASSED'
  /** A promoted version waits for its evaluation before it serves the site. */
  | 'ROLLOUT_GATE_PENDING';

/** Filters for the studies list. */
export type StudyFilter = {
  /** Exact accession number. */
  accessionNumber?: string | null | undefined;
  /** Only studies with a served AI reading that flagged this finding for review. */
  aiFinding?: string | null | undefined;
  /** Only this body part. */
  bodyPart?: BodyPart | null | undefined;
  /** Registration time. */
  createdAt?: DateRangeInput | null | undefined;
  /** Only studies whose radiologist's read in force states this finding present. */
  finalFinding?: string | null | undefined;
  /** Only studies whose radiologist's read in force amounts to this class (e.g. NORMAL). */
  finalLabel?: string | null | undefined;
  /** Only studies with a served AI reading whose top-1 class is this (see aiFinding). */
  label?: string | null | undefined;
  /** Only this patient. */
  patientId?: string | number | null | undefined;
  /** Only this priority. */
  priority?: StudyPriority | null | undefined;
  /** Only studies of this site. */
  siteId?: string | number | null | undefined;
  /** Only this status. */
  status?: StudyStatus | null | undefined;
};

/** Reading priority: STAT before URGENT before ROUTINE. */
export type StudyPriority =
  /** Routine reading. */
  | 'ROUTINE'
  /** Immediate: read first. */
  | 'STAT'
  /** Urgent: read before routine studies. */
  | 'URGENT';

/** Reading workflow of a study: REGISTERED → IMAGES_ATTACHED → ANALYZED → IN_REVIEW → FINAL → AMENDED. */
export type StudyStatus =
  /** The signed read was amended (amendFinalRead); the latest read is in force. */
  | 'AMENDED'
  /** AI second reading recorded; awaiting the radiologist. */
  | 'ANALYZED'
  /** AI analysis in progress. */
  | 'ANALYZING'
  /** The AI analysis failed; a radiologist can still read the study. */
  | 'FAILED'
  /** The radiologist's final read is signed (signFinalRead). */
  | 'FINAL'
  /** Images attached, not analysed (technicians). */
  | 'IMAGES_ATTACHED'
  /** A radiologist opened the study for reading (startReview). */
  | 'IN_REVIEW'
  /** Registered, no images yet (technicians). */
  | 'REGISTERED';

/** Where a finding's threshold in a site operating point comes from. */
export type ThresholdSource =
  /** The model's shipped threshold: the site had too few positives for the guarantee. */
  | 'SHIPPED'
  /** Chosen on the site's own positives, with a finite-sample recall guarantee. */
  | 'SITE';

export type DashboardMeQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardMeQuery = { me: { displayName: string, role: Role, permissions: Array<string> } };

export type DashboardCorrectionQualityQueryVariables = Exact<{
  input: CorrectionQualityInput;
}>;


export type DashboardCorrectionQualityQuery = { correctionQuality: Array<{ modelVersion: string | null, task: ModelTask, windowStart: string, windowEnd: string, n: number, refused: number, recall: number | null, specificity: number | null, agreement: number | null }> };

export type DashboardSitesQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardSitesQuery = { sites: Array<{ id: string, name: string, code: string, isDefault: boolean }> };

export type DashboardSiteValidationQueryVariables = Exact<{
  siteId: string | number;
  modelVersionId: string | number;
}>;


export type DashboardSiteValidationQuery = { siteValidation: { validated: boolean, validationSet: { n: number, patients: number, counts: Array<{ label: string, n: number }>, sources: Array<{ source: ReferenceLabelSource, n: number }> }, operatingPoint: { id: string, evaluationId: string, temperature: number, approvedAt: string, thresholds: Array<{ label: string, value: number, source: ThresholdSource }> } | null, rolloutGate: { status: SiteRolloutGateStatus, fallbackId: string | null, reason: string | null, findings: Array<{ label: string, approvedRecall: number, candidateRecall: number | null, passed: boolean }> } | null, latestEvaluation: { id: string, status: SiteEvaluationStatus, trigger: SiteEvaluationTrigger, targetRecall: number | null, n: number, patients: number | null, error: string | null, finishedAt: string | null, ece: number | null, gateRefused: { n: number, rate: number } | null, temperature: { shipped: number, used: number } | null, reliability: Array<{ confidence: number, accuracy: number, n: number }>, findings: Array<{ label: string, auroc: { value: number | null, lower: number | null, upper: number | null }, shipped: { threshold: number, recall: { value: number | null, lower: number | null, upper: number | null }, specificity: { value: number | null, lower: number | null, upper: number | null } }, site: { threshold: number, source: ThresholdSource | null, recall: { value: number | null, lower: number | null, upper: number | null }, specificity: { value: number | null, lower: number | null, upper: number | null } }, roc: Array<{ fpr: number, tpr: number }> }>, proposedOperatingPoint: { thresholds: Array<{ label: string, source: ThresholdSource, nPositives: number, positivesNeeded: number, guarantee: string }> } | null } | null } };

export type DashboardSiteValidationChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DashboardSiteValidationChangedSubscription = { siteValidationChanged: { change: SiteValidationChange, evaluationId: string | null, validation: { site: { id: string, name: string } } } };

export type DashboardEvaluateSiteMutationVariables = Exact<{
  siteId: string | number;
  modelVersionId: string | number;
  targetRecall?: number | null | undefined;
}>;


export type DashboardEvaluateSiteMutation = { evaluateSite: { id: string, status: SiteEvaluationStatus } };

export type DashboardApproveSiteOperatingPointMutationVariables = Exact<{
  evaluationId: string | number;
}>;


export type DashboardApproveSiteOperatingPointMutation = { approveSiteOperatingPoint: { id: string } };

export type DriftAlertFieldsFragment = { id: string, modelVersionId: string | null, signal: string, statistic: string, value: number, pValue: number | null, threshold: number, windowKind: DriftWindowKind, windowStart: string, windowEnd: string, windowSize: number, status: DriftAlertStatus, createdAt: string };

export type DriftChecksQueryVariables = Exact<{
  modelVersionId?: string | number | null | undefined;
  windowKind?: DriftWindowKind | null | undefined;
  since?: string | null | undefined;
}>;


export type DriftChecksQuery = { driftChecks: Array<{ id: string, modelVersionId: string, windowKind: DriftWindowKind, windowStart: string, windowEnd: string, windowSize: number, drifted: boolean, signals: Array<{ signal: string, statistic: string, value: number, pValue: number | null, threshold: number, drifted: boolean }> }> };

export type DriftAlertsQueryVariables = Exact<{
  status?: DriftAlertStatus | null | undefined;
}>;


export type DriftAlertsQuery = { driftAlerts: { edges: Array<{ node: { id: string, modelVersionId: string | null, signal: string, statistic: string, value: number, pValue: number | null, threshold: number, windowKind: DriftWindowKind, windowStart: string, windowEnd: string, windowSize: number, status: DriftAlertStatus, createdAt: string } }> } };

export type AcknowledgeDriftAlertMutationVariables = Exact<{
  id: string | number;
}>;


export type AcknowledgeDriftAlertMutation = { acknowledgeDriftAlert: { id: string, modelVersionId: string | null, signal: string, statistic: string, value: number, pValue: number | null, threshold: number, windowKind: DriftWindowKind, windowStart: string, windowEnd: string, windowSize: number, status: DriftAlertStatus, createdAt: string } };

export type ResolveDriftAlertMutationVariables = Exact<{
  id: string | number;
}>;


export type ResolveDriftAlertMutation = { resolveDriftAlert: { id: string, modelVersionId: string | null, signal: string, statistic: string, value: number, pValue: number | null, threshold: number, windowKind: DriftWindowKind, windowStart: string, windowEnd: string, windowSize: number, status: DriftAlertStatus, createdAt: string } };

export type DriftDetectedSubscriptionVariables = Exact<{
  modelVersionId?: string | number | null | undefined;
}>;


export type DriftDetectedSubscription = { driftDetected: { id: string, modelVersionId: string | null, signal: string, statistic: string, value: number, pValue: number | null, threshold: number, windowKind: DriftWindowKind, windowStart: string, windowEnd: string, windowSize: number, status: DriftAlertStatus, createdAt: string } };

export type MonitoringOverviewQueryVariables = Exact<{
  minutes?: number | null | undefined;
  recent?: number | null | undefined;
}>;


export type MonitoringOverviewQuery = { monitoringOverview: { bucketMinutes: number, corrections: number, warning: string, modelVersions: Array<{ id: string, task: ModelTask, version: string, stage: ModelStage, trafficShare: number, hasReferenceProfile: boolean }>, throughput: Array<{ start: string, predictions: number, refused: number, p50Ms: number | null, p95Ms: number | null }>, recentPredictions: Array<{ id: string, createdAt: string, model: string | null, route: string, gateVerdict: GateVerdict, label: string | null, totalMs: number | null }>, drift: { enabled: boolean, windowSize: number, timeWindowMinutes: number, minWindowSize: number, alpha: number, psiThreshold: number, permutations: number } } };

export type GenerateNoteMutationVariables = Exact<{
  predictionId: string | number;
  audience: NoteAudience;
  language: string;
}>;


export type GenerateNoteMutation = { generateNote: { id: string, status: NoteStatus, body: string, releasable: boolean, failedChecks: Array<string>, safetyChecks: Record<string, unknown>, warning: string } };

export type NoteDraftStreamedSubscriptionVariables = Exact<{
  predictionId: string | number;
}>;


export type NoteDraftStreamedSubscription = { noteDraftStreamed: { noteId: string, sequence: number, text: string, done: boolean, error: string | null } };

export type ApproveNoteMutationVariables = Exact<{
  id: string | number;
}>;


export type ApproveNoteMutation = { approveNote: { id: string, status: NoteStatus, approvedAt: string | null } };

export type ApprovedNotesQueryVariables = Exact<{
  predictionId?: string | number | null | undefined;
}>;


export type ApprovedNotesQuery = { clinicalNotes: { edges: Array<{ node: { id: string, audience: NoteAudience, language: string, body: string, approvedAt: string | null, warning: string } }> } };

export type StudiesQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  filter?: StudyFilter | null | undefined;
}>;


export type StudiesQuery = { studies: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, accessionNumber: string, bodyPart: BodyPart, priority: StudyPriority, status: StudyStatus, createdAt: string, patient: { id: string, mrn: string, givenName: string, familyName: string }, images: Array<{ id: string, view: ImageView, format: ImageFormat, width: number, height: number }> } }> } };

export type CreatePatientMutationVariables = Exact<{
  input: CreatePatientInput;
}>;


export type CreatePatientMutation = { createPatient: { id: string, mrn: string } };

export type CreateStudyMutationVariables = Exact<{
  input: CreateStudyInput;
}>;


export type CreateStudyMutation = { createStudy: { id: string, status: StudyStatus } };

export type AttachImageMutationVariables = Exact<{
  input: AttachImageInput;
}>;


export type AttachImageMutation = { attachImage: { id: string, view: ImageView, url: string } };

export type StudyEventsSubscriptionVariables = Exact<{
  patientId?: string | number | null | undefined;
}>;


export type StudyEventsSubscription = { studyEvents: { change: string, study: { id: string, status: StudyStatus } } };
