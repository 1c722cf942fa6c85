import { registerEnumType } from 'type-graphql';
import {
  AuditAction,
  BodyPart,
  DriftAlertStatus,
  GateVerdict,
  ImageFormat,
  ImageView,
  ModelStage,
  ModelTask,
  NoteAudience,
  NoteStatus,
  Role,
  Sex,
  StudyPriority,
  StudyStatus,
  TrainingRunStatus,
} from '../domain/enums';

registerEnumType(Role, { name: 'Role', description: 'Role of a user; decides what it may read and do.' });
registerEnumType(Sex, { name: 'Sex', description: 'Administrative sex as recorded by the hospital.' });
registerEnumType(BodyPart, { name: 'BodyPart', description: 'Anatomy a study covers; decides which model reads it.' });
registerEnumType(StudyPriority, { name: 'StudyPriority', description: 'Reading priority: STAT before URGENT before ROUTINE.' });
registerEnumType(StudyStatus, { name: 'StudyStatus', description: 'Lifecycle of a study from registration to clinician review.' });
registerEnumType(ImageView, { name: 'ImageView', description: 'Radiographic projection of an image.' });
registerEnumType(ImageFormat, { name: 'ImageFormat', description: 'Container format of an uploaded file.' });
registerEnumType(GateVerdict, { name: 'GateVerdict', description: 'Verdict of the input gate that runs before any diagnosis.' });
registerEnumType(ModelTask, { name: 'ModelTask', description: 'Which reading task a model serves.' });
registerEnumType(ModelStage, { name: 'ModelStage', description: 'Rollout stage of a model version.' });
registerEnumType(TrainingRunStatus, { name: 'TrainingRunStatus', description: 'State of a training run.' });
registerEnumType(NoteAudience, { name: 'NoteAudience', description: 'Who a clinical note is written for.' });
registerEnumType(NoteStatus, { name: 'NoteStatus', description: 'Review state of a clinical note.' });
registerEnumType(DriftAlertStatus, { name: 'DriftAlertStatus', description: 'State of a drift alert.' });
registerEnumType(AuditAction, { name: 'AuditAction', description: 'Kind of action recorded in the audit trail.' });

export {
  AuditAction,
  BodyPart,
  DriftAlertStatus,
  GateVerdict,
  ImageFormat,
  ImageView,
  ModelStage,
  ModelTask,
  NoteAudience,
  NoteStatus,
  Role,
  Sex,
  StudyPriority,
  StudyStatus,
  TrainingRunStatus,
};
