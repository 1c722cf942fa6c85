/**
 * Role matrix over the real HTTP and WebSocket transport. Expected outcomes come from ROLE_PERMISSIONS
 * (the single source of role rules): each operation names the permission it needs, and a role is
 * allowed exactly when the policy table grants it all of them. The table is checked against the
 * schema, so an operation added without a row here fails; every refused attempt must leave a DENIED
 * audit event under the operation's label, and every mutation that succeeds its own write event.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Permission, ROLE_PERMISSIONS, roleHas } from '../../src/auth/policy';
import { TokenService } from '../../src/auth/token.service';
import { DriftAlert } from '../../src/domain/drift/drift-alert.entity';
import { ModelStage, ModelStageChangeKind, ModelTask, Role } from '../../src/domain/enums';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { Prediction } from '../../src/domain/prediction/prediction.entity';
import { DEFAULT_SITE_ID } from '../../src/domain/site/site.entity';
import { Topic } from '../../src/domain/shared/events';
import { buildAppSchema } from '../../src/schema/build-schema';
import { actUntilReceived, connectWs, subscribe, waitForClose } from '../support/graphql-ws-client';
import { seedReadStudy, TB_READING } from '../support/reading-fixtures';
import { startTestApp, TestApp } from '../support/test-app';

type Outcome = 'OK' | 'NOT_FOUND' | 'ILLEGAL_MODEL_TRANSITION' | 'PACS_NOT_CONFIGURED';

/** One API operation: what it needs, how to call it, and what an allowed caller gets. */
interface Operation {
  name: string;
  needs: Permission[];
  query: string;
  variables: () => Record<string, unknown>;
  whenAllowed: Outcome;
  /** The write event an allowed call that succeeds leaves (mutations). */
  audit?: { action: string; entityType: string };
}

const ROLES = Object.keys(ROLE_PERMISSIONS) as Role[];

let t: TestApp;
let seq = 0;
const ids = {
  patient: '',
  study: '',
  user: '',
  prediction: '',
  readStudy: '',
  signedStudy: '',
  analyzedStudy: '',
  chestVersion: '',
};
/** Studies with a film, one per call of addSiteValidationStudies (each allowed call adds a new label). */
const toLabel: string[] = [];
const userIds = new Map<Role, string>();
const next = () => `${process.pid}-${++seq}`;

const MUTATIONS: Operation[] = [
  {
    name: 'createPatient',
    needs: [Permission.WRITE_PATIENT_DATA],
    query:
      'mutation($mrn: String!) { createPatient(input: {mrn: $mrn, givenName: "G", familyName: "F"}) { id } }',
    variables: () => ({ mrn: `MRN-${next()}` }),
    whenAllowed: 'OK',
    audit: { action: 'CREATE', entityType: 'Patient' },
  },
  {
    name: 'updatePatient',
    needs: [Permission.WRITE_PATIENT_DATA],
    query: 'mutation($id: ID!) { updatePatient(id: $id, input: {givenName: "H"}) { id } }',
    variables: () => ({ id: ids.patient }),
    whenAllowed: 'OK',
    audit: { action: 'UPDATE', entityType: 'Patient' },
  },
  {
    name: 'createStudy',
    needs: [Permission.WRITE_PATIENT_DATA],
    query:
      'mutation($p: ID!, $acc: String!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: $acc}) { id } }',
    variables: () => ({ p: ids.patient, acc: `ACC-${next()}` }),
    whenAllowed: 'OK',
    audit: { action: 'CREATE', entityType: 'Study' },
  },
  {
    name: 'updateStudy',
    needs: [Permission.WRITE_PATIENT_DATA],
    query: 'mutation($id: ID!) { updateStudy(id: $id, input: {priority: URGENT}) { id } }',
    variables: () => ({ id: ids.study }),
    whenAllowed: 'OK',
    audit: { action: 'UPDATE', entityType: 'Study' },
  },
  {
    name: 'attachImage',
    needs: [Permission.UPLOAD_IMAGES],
    query: 'mutation($s: ID!, $u: ID!) { attachImage(input: {studyId: $s, uploadId: $u, view: PA}) { id } }',
    variables: () => ({ s: ids.study, u: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'uploadImageBase64',
    needs: [Permission.UPLOAD_IMAGES],
    query:
      'mutation($s: ID!) { uploadImageBase64(input: {studyId: $s, view: PA, dataBase64: "aGVsbG8="}) { id } }',
    variables: () => ({ s: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'createUser',
    needs: [Permission.MANAGE_USERS],
    query:
      'mutation($e: String!) { createUser(input: {email: $e, displayName: "U", role: TECHNICIAN}) { id } }',
    variables: () => ({ e: `user-${next()}@example.org` }),
    whenAllowed: 'OK',
    audit: { action: 'CREATE', entityType: 'User' },
  },
  {
    name: 'deactivateUser',
    needs: [Permission.MANAGE_USERS],
    query: 'mutation($id: ID!) { deactivateUser(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'generateNote',
    needs: [Permission.DRAFT_NOTES],
    query: 'mutation($p: ID!) { generateNote(predictionId: $p, audience: PATIENT, language: "en") { id } }',
    variables: () => ({ p: ids.prediction }),
    whenAllowed: 'OK',
    audit: { action: 'CREATE', entityType: 'ClinicalNote' },
  },
  {
    name: 'approveNote',
    needs: [Permission.CORRECT_PREDICTIONS],
    query: 'mutation($id: ID!) { approveNote(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'rejectNote',
    needs: [Permission.CORRECT_PREDICTIONS],
    query: 'mutation($id: ID!) { rejectNote(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'issueToken',
    needs: [Permission.MANAGE_USERS],
    query: 'mutation($id: ID!) { issueToken(input: {userId: $id}) { expiresAt } }',
    variables: () => ({ id: ids.user }),
    whenAllowed: 'OK',
    audit: { action: 'LOGIN', entityType: 'User' },
  },
  {
    name: 'submitCorrection',
    needs: [Permission.CORRECT_PREDICTIONS],
    query: 'mutation($p: ID!) { submitCorrection(input: {predictionId: $p, label: "NORMAL"}) { id } }',
    variables: () => ({ p: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'startCanary',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($id: ID!) { startCanary(id: $id, trafficShare: 0.1) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'setCanaryShare',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($id: ID!) { setCanaryShare(id: $id, trafficShare: 0.1) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'promoteModelVersion',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($id: ID!) { promoteModelVersion(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'archiveModelVersion',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($id: ID!) { archiveModelVersion(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'rollbackModelVersion',
    needs: [Permission.MANAGE_MODELS],
    // The shipped wrist model is the first production version: there is nothing to roll back to.
    query: 'mutation { rollbackModelVersion(task: WRIST) { id } }',
    variables: () => ({}),
    whenAllowed: 'ILLEGAL_MODEL_TRANSITION',
  },
  {
    name: 'importStudyFromPacs',
    needs: [Permission.IMPORT_STUDIES],
    query: 'mutation { importStudyFromPacs(studyInstanceUid: "1.2.3.4") { stored } }',
    variables: () => ({}),
    whenAllowed: 'PACS_NOT_CONFIGURED',
  },
  {
    name: 'exportPredictionToPacs',
    needs: [Permission.EXPORT_RESULTS],
    query: 'mutation($id: ID!) { exportPredictionToPacs(predictionId: $id) { sopInstanceUid } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'acknowledgeDriftAlert',
    needs: [Permission.TRIAGE_DRIFT_ALERTS],
    query: 'mutation($id: ID!) { acknowledgeDriftAlert(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'resolveDriftAlert',
    needs: [Permission.TRIAGE_DRIFT_ALERTS],
    query: 'mutation($id: ID!) { resolveDriftAlert(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'startRetraining',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation { startRetraining(task: CHEST) { id status } }',
    variables: () => ({}),
    whenAllowed: 'OK',
    audit: { action: 'CREATE', entityType: 'TrainingRun' },
  },
  {
    name: 'analyzeStudy',
    needs: [Permission.ANALYZE_STUDIES],
    // The QA view only: what a technician who asked for the analysis may read of it.
    query: 'mutation($s: ID!) { analyzeStudy(studyId: $s) { id gateVerdict inputs { imageId } } }',
    variables: () => ({ s: ids.analyzedStudy }),
    whenAllowed: 'OK',
    audit: { action: 'ANALYZE', entityType: 'Study' },
  },
  {
    name: 'submitStudies',
    needs: [Permission.ANALYZE_STUDIES],
    query: 'mutation($s: ID!) { submitStudies(studyIds: [$s]) { id total } }',
    variables: () => ({ s: ids.study }),
    whenAllowed: 'OK',
    audit: { action: 'ANALYZE', entityType: 'Study' },
  },
  {
    name: 'startReview',
    needs: [Permission.REPORT_STUDIES],
    query: 'mutation($s: ID!) { startReview(studyId: $s) { status } }',
    variables: () => ({ s: ids.readStudy }),
    whenAllowed: 'OK',
    audit: { action: 'UPDATE', entityType: 'Study' },
  },
  {
    name: 'signFinalRead',
    needs: [Permission.REPORT_STUDIES],
    query:
      'mutation($s: ID!) { signFinalRead(input: {studyId: $s, findings: [{label: "PNEUMONIA", present: false}, {label: "TUBERCULOSIS", present: true}]}) { version } }',
    variables: () => ({ s: ids.readStudy }),
    whenAllowed: 'OK',
    audit: { action: 'CREATE', entityType: 'StudyRead' },
  },
  {
    name: 'createSite',
    needs: [Permission.MANAGE_SITES],
    query: 'mutation($c: String!) { createSite(input: {code: $c, name: "Site"}) { id } }',
    variables: () => ({ c: `site-${next()}` }),
    whenAllowed: 'OK',
    audit: { action: 'CREATE', entityType: 'Site' },
  },
  {
    name: 'addSiteValidationStudies',
    needs: [Permission.CURATE_SITE_VALIDATION],
    query:
      'mutation($site: ID!, $s: ID!) { addSiteValidationStudies(input: {siteId: $site, items: [{studyId: $s, label: "NORMAL"}]}) { n } }',
    variables: () => ({ site: DEFAULT_SITE_ID, s: toLabel.length > 1 ? toLabel.shift() : toLabel[0] }),
    whenAllowed: 'OK',
    audit: { action: 'CREATE', entityType: 'SiteValidationItem' },
  },
  {
    name: 'evaluateSite',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($site: ID!, $v: ID!) { evaluateSite(siteId: $site, modelVersionId: $v) { id } }',
    variables: () => ({ site: randomUUID(), v: ids.chestVersion }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'approveSiteOperatingPoint',
    needs: [Permission.MANAGE_MODELS],
    query: 'mutation($e: ID!) { approveSiteOperatingPoint(evaluationId: $e) { id } }',
    variables: () => ({ e: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'amendFinalRead',
    needs: [Permission.REPORT_STUDIES],
    query:
      'mutation($s: ID!) { amendFinalRead(input: {studyId: $s, reason: "second look", findings: [{label: "PNEUMONIA", present: false}, {label: "TUBERCULOSIS", present: false}]}) { version } }',
    variables: () => ({ s: ids.signedStudy }),
    whenAllowed: 'OK',
    audit: { action: 'CREATE', entityType: 'StudyRead' },
  },
];

const page = (field: string, args = 'first: 5') =>
  `{ ${field}(${args}) { totalCount edges { node { id } } } }`;
const QUERIES: Operation[] = [
  {
    name: 'patient',
    needs: [Permission.READ_PATIENT_DATA],
    query: 'query($id: ID!) { patient(id: $id) { id } }',
    variables: () => ({ id: ids.patient }),
    whenAllowed: 'OK',
  },
  {
    name: 'patients',
    needs: [Permission.READ_PATIENT_DATA],
    query: page('patients'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'study',
    needs: [Permission.READ_PATIENT_DATA],
    query: 'query($id: ID!) { study(id: $id) { id } }',
    variables: () => ({ id: ids.study }),
    whenAllowed: 'OK',
  },
  {
    name: 'studies',
    needs: [Permission.READ_PATIENT_DATA],
    query: page('studies'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'images',
    needs: [Permission.READ_PATIENT_DATA],
    query: page('images'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'predictions',
    needs: [Permission.READ_PATIENT_DATA],
    query: page('predictions'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'prediction',
    needs: [Permission.READ_PATIENT_DATA],
    query: 'query($id: ID!) { prediction(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'clinicalNote',
    needs: [Permission.READ_PREDICTIONS],
    query: 'query($id: ID!) { clinicalNote(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'clinicalNotes',
    needs: [Permission.READ_PREDICTIONS],
    query: page('clinicalNotes'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'corrections',
    needs: [Permission.READ_PREDICTIONS],
    query: page('corrections'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'auditEvents',
    needs: [Permission.READ_AUDIT],
    query: page('auditEvents'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'users',
    needs: [Permission.MANAGE_USERS],
    query: page('users'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'modelVersions',
    needs: [Permission.READ_MODELS],
    query: page('modelVersions'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'trainingRun',
    needs: [Permission.READ_MODELS],
    query: 'query($id: ID!) { trainingRun(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'correctionQuality',
    needs: [Permission.READ_MONITORING],
    query:
      'query { correctionQuality(input: {from: "2026-01-01T00:00:00Z", to: "2026-01-08T00:00:00Z"}) { n recall } }',
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'modelLineage',
    needs: [Permission.READ_MODELS],
    query: 'query($id: ID!) { modelLineage(id: $id) { modelVersion { id } } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'driftAlerts',
    needs: [Permission.READ_MONITORING],
    query: page('driftAlerts'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'driftChecks',
    needs: [Permission.READ_MONITORING],
    query: '{ driftChecks { id } }',
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'monitoringOverview',
    needs: [Permission.READ_MONITORING],
    query: '{ monitoringOverview { warning } }',
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'trainingRuns',
    needs: [Permission.READ_MODELS],
    query: page('trainingRuns'),
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'analysisJob',
    needs: [Permission.READ_ANALYSIS_JOBS],
    query: 'query($id: ID!) { analysisJob(id: $id) { id } }',
    variables: () => ({ id: randomUUID() }),
    whenAllowed: 'NOT_FOUND',
  },
  {
    name: 'me',
    needs: [],
    query: '{ me { id role } }',
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'sites',
    needs: [],
    query: '{ sites { id code } }',
    variables: () => ({}),
    whenAllowed: 'OK',
  },
  {
    name: 'siteValidation',
    needs: [Permission.READ_SITE_VALIDATION],
    query:
      'query($site: ID!, $v: ID!) { siteValidation(siteId: $site, modelVersionId: $v) { validated validationSet { n } } }',
    variables: () => ({ site: DEFAULT_SITE_ID, v: ids.chestVersion }),
    whenAllowed: 'OK',
  },
  {
    name: 'pacsStudies',
    needs: [Permission.IMPORT_STUDIES, Permission.READ_PATIENT_DATA],
    query: '{ pacsStudies { studyInstanceUid } }',
    variables: () => ({}),
    whenAllowed: 'PACS_NOT_CONFIGURED',
  },
];

/** A subscription: what it needs, and how to make it deliver one event to an allowed subscriber. */
interface SubscriptionOperation {
  name: string;
  needs: Permission[];
  query: string;
  variables: () => Record<string, unknown>;
  /** Raises one event; returns a predicate that recognises it. */
  trigger: () => Promise<(event: Record<string, any>) => boolean>;
}

const SUBSCRIPTIONS: SubscriptionOperation[] = [
  {
    name: 'studyEvents',
    needs: [Permission.SUBSCRIBE, Permission.READ_PATIENT_DATA],
    query: 'subscription { studyEvents { change study { id accessionNumber } } }',
    variables: () => ({}),
    trigger: async () => {
      const acc = `SUB-${next()}`;
      const res = await t.gql(
        tokens.get(Role.TECHNICIAN)!,
        'mutation($p: ID!, $a: String!) { createStudy(input: {patientId: $p, bodyPart: WRIST, accessionNumber: $a}) { id } }',
        { p: ids.patient, a: acc },
      );
      expect(res.errors).toBeUndefined();
      return (e) => e.studyEvents.study.accessionNumber === acc && e.studyEvents.change === 'CREATED';
    },
  },
  {
    name: 'noteDraftStreamed',
    needs: [Permission.SUBSCRIBE, Permission.DRAFT_NOTES],
    query: 'subscription($p: ID!) { noteDraftStreamed(predictionId: $p) { noteId done } }',
    variables: () => ({ p: ids.prediction }),
    trigger: async () => {
      const res = await t.gql<{ generateNote: { id: string } }>(
        tokens.get(Role.RADIOLOGIST)!,
        'mutation($p: ID!) { generateNote(predictionId: $p, audience: PATIENT) { id } }',
        { p: ids.prediction },
      );
      expect(res.errors).toBeUndefined();
      return (e) => e.noteDraftStreamed.noteId === res.data!.generateNote.id;
    },
  },
  {
    name: 'predictionCompleted',
    needs: [Permission.SUBSCRIBE, Permission.READ_PATIENT_DATA],
    query: 'subscription($s: ID) { predictionCompleted(studyId: $s) { id gateVerdict } }',
    variables: () => ({ s: ids.readStudy }),
    trigger: async () => {
      const prediction = await t.app.orm.em
        .fork()
        .findOneOrFail(Prediction, { id: ids.prediction }, { populate: ['study', 'modelVersion'] });
      t.app.analysis.announce({ prediction, shadow: null, reused: false });
      return (e) => e.predictionCompleted.id === ids.prediction;
    },
  },
  {
    name: 'analysisJobUpdated',
    needs: [Permission.SUBSCRIBE, Permission.READ_ANALYSIS_JOBS],
    query: 'subscription { analysisJobUpdated { id total } }',
    variables: () => ({}),
    trigger: async () => {
      const res = await t.gql<{ submitStudies: { id: string } }>(
        tokens.get(Role.TECHNICIAN)!,
        'mutation($s: ID!) { submitStudies(studyIds: [$s]) { id } }',
        { s: ids.study },
      );
      expect(res.errors).toBeUndefined();
      return (e) => e.analysisJobUpdated.id === res.data!.submitStudies.id;
    },
  },
  {
    name: 'modelVersionChanged',
    needs: [Permission.SUBSCRIBE, Permission.READ_MODELS],
    query: 'subscription { modelVersionChanged { kind modelVersion { id } } }',
    variables: () => ({}),
    trigger: async () => {
      const v = await t.app.orm.em
        .fork()
        .findOneOrFail(ModelVersion, { task: ModelTask.CHEST, stage: ModelStage.PRODUCTION });
      t.app.events.publish(Topic.MODEL_VERSION_CHANGED, {
        modelVersionId: v.id,
        task: v.task,
        version: v.version,
        stage: v.stage,
        previousStage: v.stage,
        kind: ModelStageChangeKind.CANARY_SHARE_CHANGED,
      });
      return (e) => e.modelVersionChanged.modelVersion.id === v.id;
    },
  },
  {
    name: 'siteValidationChanged',
    needs: [Permission.SUBSCRIBE, Permission.READ_SITE_VALIDATION],
    query: 'subscription($s: ID) { siteValidationChanged(siteId: $s) { change evaluationId } }',
    variables: () => ({ s: DEFAULT_SITE_ID }),
    trigger: async () => {
      const evaluationId = randomUUID();
      t.app.events.publish(Topic.SITE_VALIDATION_CHANGED, {
        siteId: DEFAULT_SITE_ID,
        modelVersionId: ids.chestVersion,
        task: ModelTask.CHEST,
        change: 'EVALUATION_QUEUED',
        evaluationId,
      });
      return (e) => e.siteValidationChanged.evaluationId === evaluationId;
    },
  },
  {
    name: 'driftDetected',
    needs: [Permission.SUBSCRIBE, Permission.READ_MONITORING],
    query: 'subscription { driftDetected { id signal } }',
    variables: () => ({}),
    trigger: async () => {
      const em = t.app.orm.em.fork();
      const v = await em.findOneOrFail(ModelVersion, { task: ModelTask.CHEST, stage: ModelStage.PRODUCTION });
      const alert = em.create(DriftAlert, {
        modelVersion: v,
        signal: 'confidence',
        statistic: 'KS',
        value: 0.5,
        threshold: 0.1,
        windowStart: new Date(Date.now() - 60_000),
        windowEnd: new Date(),
        windowSize: 10,
      } as DriftAlert);
      await em.flush();
      t.app.events.publish(Topic.DRIFT_DETECTED, {
        driftAlertId: alert.id,
        modelVersionId: v.id,
        signal: 'confidence',
      });
      return (e) => e.driftDetected.id === alert.id;
    },
  },
];

/** Row counts of the tables mutations write; a refused mutation must leave them as they were. */
async function rowCounts(): Promise<Record<string, number>> {
  const rows = await t.app.orm.em
    .fork()
    .getConnection()
    .execute(
      `select (select count(*) from patient)::int as patients, (select count(*) from study)::int as studies,
              (select count(*) from image)::int as images, (select count(*) from upload)::int as uploads,
              (select count(*) from app_user where active)::int as active_users, (select count(*) from clinical_note)::int as notes,
              (select count(*) from study_read)::int as reads, (select count(*) from analysis_job)::int as jobs,
              (select count(*) from prediction)::int as predictions, (select count(*) from site)::int as sites,
              (select count(*) from site_validation_item)::int as site_labels,
              (select count(*) from site_evaluation)::int as site_evaluations,
              (select count(*) from site_operating_point)::int as site_operating_points,
              (select count(*) from audit_event where action not in ('READ', 'DENIED'))::int as writes`,
    );
  return rows[0] as Record<string, number>;
}

/** The time of the latest audit event: what is written after it belongs to the call under test. */
async function auditMark(): Promise<Date> {
  const [row] = (await t.app.orm.em
    .fork()
    .getConnection()
    .execute('select coalesce(max(created_at), now()) as at from audit_event')) as { at: Date }[];
  return row!.at;
}

/** Audit events of one user under one operation label written after `since` (see auditMark). */
async function auditOf(role: Role, operation: string, since: Date) {
  // analyzeStudy's row goes through the batch writer after its commit.
  await t.app.subscriptions.audit.flush();
  return (await t.app.orm.em
    .fork()
    .getConnection()
    .execute(
      `select action, entity_type, entity_id from audit_event where actor_id = ? and operation = ? and created_at > ? and action <> 'READ' order by created_at`,
      [userIds.get(role), operation, since],
    )) as { action: string; entity_type: string; entity_id: string | null }[];
}

const allowed = (role: Role, needs: Permission[]) => needs.every((p) => roleHas(role, p));
const codes = (errors?: { extensions?: { code?: string } }[]) =>
  (errors ?? []).map((e) => e.extensions?.code);

const tokens = new Map<Role, string>();

beforeAll(async () => {
  // Retraining runs and batch jobs queued by the matrix stay queued: this process takes none.
  t = await startTestApp({ RETRAIN_WORKERS: '0', ANALYSIS_WORKERS: '0' });
  for (const role of ROLES) {
    const { token, user } = await t.app.users.bootstrapAdmin(`${role.toLowerCase()}-${next()}@test`, role);
    tokens.set(role, token);
    userIds.set(role, user.id);
  }
  const tech = tokens.get(Role.TECHNICIAN)!;
  const p = await t.gql<{ createPatient: { id: string } }>(
    tech,
    'mutation { createPatient(input: {mrn: "SEED-1", givenName: "G", familyName: "F"}) { id } }',
  );
  ids.patient = p.data!.createPatient.id;
  const s = await t.gql<{ createStudy: { id: string } }>(
    tech,
    'mutation($p: ID!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: "SEED-ACC-1"}) { id } }',
    { p: ids.patient },
  );
  ids.study = s.data!.createStudy.id;
  // Studies with a real film and a served AI reading: one to read, one signed to amend, one to analyse.
  const read = await seedReadStudy(t, tech, TB_READING);
  ids.readStudy = read.studyId;
  ids.prediction = read.predictionId;
  ids.signedStudy = (await seedReadStudy(t, tech, TB_READING)).studyId;
  const signed = await t.gql(
    tokens.get(Role.RADIOLOGIST)!,
    'mutation($s: ID!) { signFinalRead(input: {studyId: $s, findings: [{label: "PNEUMONIA", present: false}, {label: "TUBERCULOSIS", present: true}]}) { id } }',
    { s: ids.signedStudy },
  );
  expect(signed.errors).toBeUndefined();
  ids.analyzedStudy = (await seedReadStudy(t, tech, TB_READING)).studyId;
  for (let i = 0; i < 6; i++) toLabel.push((await seedReadStudy(t, tech, TB_READING)).studyId);
  ids.chestVersion = (
    await t.app.orm.em
      .fork()
      .findOneOrFail(ModelVersion, { task: ModelTask.CHEST, stage: ModelStage.PRODUCTION })
  ).id;
  // An ADMIN: tokens of users who read patient data are never minted through the API (issueToken).
  ids.user = (await t.app.users.bootstrapAdmin(`victim-${next()}@test`, Role.ADMIN)).user.id;
});
afterAll(async () => t?.stop());

describe('the operation table', () => {
  it('has a row for every query, mutation and subscription of the schema (a new operation needs one)', async () => {
    const schema = await buildAppSchema();
    const fields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap(
      (type) => Object.keys(type?.getFields() ?? {}),
    );
    expect([...MUTATIONS, ...QUERIES, ...SUBSCRIPTIONS].map((op) => op.name).sort()).toEqual(fields.sort());
  });

  it('covers every role and grants each operation to at least one role and denies it to another', () => {
    expect(new Set(ROLES)).toEqual(new Set(Object.values(Role)));
    for (const op of [...MUTATIONS, ...QUERIES, ...SUBSCRIPTIONS].filter((o) => o.needs.length > 0)) {
      const verdicts = ROLES.map((role) => allowed(role, op.needs));
      expect({
        op: op.name,
        someAllowed: verdicts.includes(true),
        someDenied: verdicts.includes(false),
      }).toEqual({
        op: op.name,
        someAllowed: true,
        someDenied: true,
      });
    }
  });

  it('gives every mutation that can succeed the write event it leaves', () => {
    for (const op of MUTATIONS)
      expect({ op: op.name, audited: op.whenAllowed !== 'OK' || !!op.audit }).toEqual({
        op: op.name,
        audited: true,
      });
  });
});

describe.each([
  ...MUTATIONS.map((op) => ({ ...op, type: 'mutation' })),
  ...QUERIES.map((op) => ({ ...op, type: 'query' })),
])('$name', (op) => {
  it.each(ROLES)('as %s follows ROLE_PERMISSIONS, and is audited', async (role) => {
    const before = await rowCounts();
    const since = await auditMark();
    const res = await t.gql(tokens.get(role)!, op.query, op.variables());
    expect(res.status).toBe(200);
    const label = `${op.type} ${op.name}`;
    if (!allowed(role, op.needs)) {
      expect(codes(res.errors)).toEqual(['FORBIDDEN']);
      expect(res.data?.[op.name] ?? null).toBeNull();
      expect(await rowCounts()).toEqual(before);
      // The refused attempt is on the record, under the operation's label (not the client's name).
      expect(await auditOf(role, label, since)).toEqual([
        { action: 'DENIED', entity_type: 'Operation', entity_id: op.name },
      ]);
      return;
    }
    expect(codes(res.errors)).toEqual(op.whenAllowed === 'OK' ? [] : [op.whenAllowed]);
    if (op.whenAllowed === 'OK') expect(res.data?.[op.name]).toBeTruthy();
    if (op.type === 'mutation') {
      const events = await auditOf(role, label, since);
      if (op.whenAllowed === 'OK' && op.audit)
        expect(events).toContainEqual(
          expect.objectContaining({ action: op.audit.action, entity_type: op.audit.entityType }),
        );
      else expect(events).toEqual([]);
    }
  });

  it('without a token answers HTTP 401 UNAUTHENTICATED', async () => {
    const res = await t.gql(null, op.query, op.variables());
    expect(res.status).toBe(401);
    expect(codes(res.errors)).toEqual(['UNAUTHENTICATED']);
  });
});

describe.each(SUBSCRIPTIONS)('$name subscription over graphql-ws', (op) => {
  it.each(ROLES)('as %s follows ROLE_PERMISSIONS', async (role) => {
    const ws = connectWs(t.app.url, { authorization: `Bearer ${tokens.get(role)}` });
    try {
      await ws.connected;
      const since = await auditMark();
      const sub = subscribe<Record<string, any>>(ws.client, op.query, op.variables());
      if (!allowed(role, op.needs)) {
        expect(codes(await sub.waitForErrors())).toEqual(['FORBIDDEN']);
        expect(sub.events).toEqual([]);
        expect(await auditOf(role, `subscription ${op.name}`, since)).toEqual([
          { action: 'DENIED', entity_type: 'Operation', entity_id: op.name },
        ]);
        return;
      }
      await actUntilReceived(sub, op.trigger);
      expect(sub.errors).toEqual([]);
      sub.stop();
    } finally {
      await ws.dispose();
    }
  });
});

describe('one rule for AI readings: the record with READ_PATIENT_DATA, its clinical content with READ_PREDICTIONS', () => {
  const CLINICAL = [
    'outcome',
    'flagged',
    'assessments',
    'label',
    'probabilities',
    'findings',
    'heatmapUrl',
    'siteOperatingPoint',
  ];
  const query = `query($id: ID!) { prediction(id: $id) { id gateVerdict inputs { imageId } ${CLINICAL.map(
    (f) =>
      f === 'assessments'
        ? 'assessments { label }'
        : f === 'probabilities'
          ? 'probabilities { label }'
          : f === 'findings'
            ? 'findings { label }'
            : f === 'siteOperatingPoint'
              ? 'siteOperatingPoint { id }'
              : f,
  ).join(' ')} } }`;

  it.each(ROLES)('as %s', async (role) => {
    const since = await auditMark();
    const res = await t.gql<{ prediction: Record<string, unknown> | null }>(tokens.get(role)!, query, {
      id: ids.prediction,
    });
    if (!allowed(role, [Permission.READ_PATIENT_DATA])) {
      expect(codes(res.errors)).toEqual(['FORBIDDEN']);
      expect(res.data?.prediction ?? null).toBeNull();
      return;
    }
    expect(res.data!.prediction).toMatchObject({ id: ids.prediction, gateVerdict: 'ACCEPTED' });
    if (allowed(role, [Permission.READ_PREDICTIONS])) {
      expect(res.errors).toBeUndefined();
      expect(res.data!.prediction).toMatchObject({ label: 'TUBERCULOSIS', flagged: true });
      return;
    }
    // Each refused field answers FORBIDDEN on its own path; the rest of the answer stands.
    expect(
      res.errors!.map((e) => [(e as { path?: string[] }).path?.join('.'), e.extensions?.code]).sort(),
    ).toEqual(CLINICAL.map((f) => [`prediction.${f}`, 'FORBIDDEN']).sort());
    for (const f of CLINICAL) expect(res.data!.prediction![f]).toBeNull();
    const denied = await auditOf(role, 'query prediction', since);
    expect(
      denied
        .filter((e) => e.action === 'DENIED')
        .map((e) => e.entity_id)
        .sort(),
    ).toEqual(CLINICAL.map((f) => `prediction.${f}`).sort());
  });

  it('refuses a technician the heatmap route too, audited under its readable name', async () => {
    const since = await auditMark();
    const res = await fetch(`${t.app.url}/predictions/${ids.prediction}/heatmap`, {
      headers: { authorization: `Bearer ${tokens.get(Role.TECHNICIAN)}` },
    });
    expect(res.status).toBe(403);
    expect(await auditOf(Role.TECHNICIAN, 'GET /predictions/:id/heatmap', since)).toEqual([
      { action: 'DENIED', entity_type: 'Operation', entity_id: 'GET /predictions/:id/heatmap' },
    ]);
  });

  it('refuses filtering by what the AI said to a role without READ_PREDICTIONS', async () => {
    const tech = tokens.get(Role.TECHNICIAN)!;
    for (const filter of [
      '{label: "TUBERCULOSIS"}',
      '{aiFinding: "TUBERCULOSIS"}',
      '{finalLabel: "NORMAL"}',
    ]) {
      const r = await t.gql(tech, `{ studies(first: 5, filter: ${filter}) { totalCount } }`);
      expect(codes(r.errors)).toEqual(['FORBIDDEN']);
    }
    expect(
      codes(
        (await t.gql(tech, '{ predictions(first: 5, filter: {label: "NORMAL"}) { totalCount } }')).errors,
      ),
    ).toEqual(['FORBIDDEN']);
  });
});

describe('closes the connection with 4403 for bad credentials', () => {
  it.each<[string, () => Promise<Record<string, unknown>>]>([
    ['no connection params', async () => ({})],
    ['a malformed token', async () => ({ authorization: 'Bearer not-a-jwt' })],
    ['an expired token', async () => ({ authorization: `Bearer ${await expiredToken()}` })],
    ['a token signed with another secret', async () => ({ authorization: `Bearer ${await forgedToken()}` })],
    ['an alg:none token', async () => ({ authorization: `Bearer ${await unsignedToken()}` })],
  ])('%s', async (_label, params) => {
    const ws = connectWs(t.app.url, await params());
    try {
      expect(await waitForClose(ws)).toBe(4403);
    } finally {
      await ws.dispose();
    }
  });
});

async function userOf(role: Role): Promise<{ id: string; role: Role }> {
  const { user } = await t.app.users.bootstrapAdmin(`u-${next()}@test`, role);
  return { id: user.id, role: user.role };
}

async function expiredToken(): Promise<string> {
  const user = await userOf(Role.TECHNICIAN);
  return (await t.app.tokens.mint(user.id, user.role, -60)).token;
}

async function forgedToken(): Promise<string> {
  const user = await userOf(Role.ADMIN);
  const other = new TokenService('another-secret-another-secret-another-0', t.app.config.auth.issuer, 3600);
  return (await other.mint(user.id, user.role)).token;
}

async function unsignedToken(): Promise<string> {
  const user = await userOf(Role.ADMIN);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    role: user.role,
    sub: user.id,
    iss: t.app.config.auth.issuer,
    jti: randomUUID(),
    iat: now,
    exp: now + 3600,
  };
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

describe('bad credentials over HTTP', () => {
  const probe = '{ patients(first: 1) { totalCount } }';
  const expectUnauthenticated = async (token: string) => {
    const res = await t.gql(token, probe);
    expect(res.status).toBe(401);
    expect(codes(res.errors)).toEqual(['UNAUTHENTICATED']);
    expect(res.data).toBeUndefined();
  };

  it('accepts a freshly minted token (control for the cases below)', async () => {
    const user = await userOf(Role.TECHNICIAN);
    const res = await t.gql((await t.app.tokens.mint(user.id, user.role)).token, probe);
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
  });

  it('refuses an expired token', async () => {
    await expectUnauthenticated(await expiredToken());
  });

  it('refuses an expired token signed with jose directly (exp in the past)', async () => {
    const user = await userOf(Role.TECHNICIAN);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role: user.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(t.app.config.auth.issuer)
      .setJti(randomUUID())
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(new TextEncoder().encode(t.app.config.auth.secret!));
    await expectUnauthenticated(token);
  });

  it('refuses a token signed with another secret', async () => {
    await expectUnauthenticated(await forgedToken());
  });

  it('refuses an unsigned (alg: none) token', async () => {
    await expectUnauthenticated(await unsignedToken());
  });

  it('refuses a token claiming a role for a user that does not exist', async () => {
    await expectUnauthenticated((await t.app.tokens.mint(randomUUID(), Role.ADMIN)).token);
  });

  it('refuses the token of a deactivated user, over HTTP and WebSocket, at once', async () => {
    const { token, user } = await t.app.users.bootstrapAdmin(`leaver-${next()}@test`, Role.RADIOLOGIST);
    expect((await t.gql(token, probe)).status).toBe(200);
    const ws = connectWs(t.app.url, { authorization: `Bearer ${token}` });
    await ws.connected;
    await ws.dispose();

    const off = await t.gql<{ deactivateUser: { active: boolean } }>(
      tokens.get(Role.ADMIN)!,
      'mutation($id: ID!) { deactivateUser(id: $id) { active } }',
      { id: user.id },
    );
    expect(off.errors).toBeUndefined();
    expect(off.data!.deactivateUser.active).toBe(false);

    await expectUnauthenticated(token);
    const refused = connectWs(t.app.url, { authorization: `Bearer ${token}` });
    try {
      expect(await waitForClose(refused)).toBe(4403);
    } finally {
      await refused.dispose();
    }
  });

  it('stops an open subscription of a user deactivated after connecting (regression: events kept flowing)', async () => {
    const { token, user } = await t.app.users.bootstrapAdmin(`subscriber-${next()}@test`, Role.RADIOLOGIST);
    const ws = connectWs(t.app.url, { authorization: `Bearer ${token}` });
    try {
      await ws.connected;
      const sub = subscribe<{
        studyEvents: { study: { accessionNumber: string; patient: { familyName: string } } };
      }>(ws.client, 'subscription { studyEvents { study { accessionNumber patient { familyName } } } }');
      const createStudy = async (acc: string) => {
        const res = await t.gql(
          tokens.get(Role.TECHNICIAN)!,
          'mutation($p: ID!, $a: String!) { createStudy(input: {patientId: $p, bodyPart: CHEST, accessionNumber: $a}) { id } }',
          {
            p: ids.patient,
            a: acc,
          },
        );
        expect(res.errors).toBeUndefined();
      };
      await actUntilReceived(sub, async () => {
        const acc = `LIVE-${next()}`;
        await createStudy(acc);
        return (e) => e.studyEvents.study.accessionNumber === acc;
      });

      const off = await t.gql(
        tokens.get(Role.ADMIN)!,
        'mutation($id: ID!) { deactivateUser(id: $id) { id } }',
        { id: user.id },
      );
      expect(off.errors).toBeUndefined();
      const after = `AFTER-${next()}`;
      await createStudy(after);
      expect(await waitForClose(ws)).toBe(4403);
      expect(sub.events.some((e) => e.studyEvents.study.accessionNumber === after)).toBe(false);
    } finally {
      await ws.dispose();
    }
  });

  it('uses the current role of the user, not the role claimed in the token', async () => {
    const { user } = await t.app.users.bootstrapAdmin(`claims-${next()}@test`, Role.INTEGRATOR);
    const token = (await t.app.tokens.mint(user.id, Role.ADMIN)).token;
    const res = await t.gql(token, page('users'));
    expect(codes(res.errors)).toEqual(['FORBIDDEN']);
  });
});
