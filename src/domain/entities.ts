import { AnalysisJob } from './analysis/analysis-job.entity';
import { AuditEvent } from './audit/audit-event.entity';
import { Correction } from './correction/correction.entity';
import { DriftAlert } from './drift/drift-alert.entity';
import { DriftCheck } from './drift/drift-check.entity';
import { DriftSample } from './drift/drift-sample.entity';
import { Image } from './image/image.entity';
import { ModelStageChange } from './model-version/model-stage-change.entity';
import { ModelVersion } from './model-version/model-version.entity';
import { ClinicalNote } from './note/clinical-note.entity';
import { Patient } from './patient/patient.entity';
import { Prediction } from './prediction/prediction.entity';
import { StudyRead } from './read/study-read.entity';
import { SiteEvaluation } from './site/site-evaluation.entity';
import { SiteOperatingPoint } from './site/site-operating-point.entity';
import { SiteRolloutGate } from './site/site-rollout-gate.entity';
import { SiteValidationItem } from './site/site-validation-item.entity';
import { Site } from './site/site.entity';
import { Study } from './study/study.entity';
import { TrainingRun } from './training-run/training-run.entity';
import { Upload } from './upload/upload.entity';
import { User } from './user/user.entity';

/** Every entity the ORM maps; migrations must agree with these (see the schema-drift test). */
export const ENTITIES = [
  User,
  Patient,
  Site,
  Study,
  Upload,
  Image,
  ModelVersion,
  ModelStageChange,
  TrainingRun,
  Prediction,
  Correction,
  ClinicalNote,
  StudyRead,
  DriftAlert,
  DriftSample,
  DriftCheck,
  AuditEvent,
  AnalysisJob,
  SiteValidationItem,
  SiteEvaluation,
  SiteOperatingPoint,
  SiteRolloutGate,
];

export {
  AnalysisJob,
  AuditEvent,
  ClinicalNote,
  Correction,
  DriftAlert,
  DriftCheck,
  DriftSample,
  Image,
  ModelStageChange,
  ModelVersion,
  Patient,
  Prediction,
  Site,
  SiteEvaluation,
  SiteOperatingPoint,
  SiteRolloutGate,
  SiteValidationItem,
  Study,
  StudyRead,
  TrainingRun,
  Upload,
  User,
};
