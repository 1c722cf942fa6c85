import { Role } from '../domain/enums';

/**
 * What each role may do. The only place role rules live: resolvers name a permission with
 * `@Authorized(Permission.X)`, HTTP routes call `assertPermission`, and the role matrix test reads this table.
 */
export enum Permission {
  /**
   * Read patients, studies and images (PHI), and the record of AI readings without their clinical
   * content (gate verdict, explanation, timings, images read): what intake QA needs.
   */
  READ_PATIENT_DATA = 'READ_PATIENT_DATA',
  /** Register and edit patients and studies. */
  WRITE_PATIENT_DATA = 'WRITE_PATIENT_DATA',
  /** Upload radiographs and attach them to studies. */
  UPLOAD_IMAGES = 'UPLOAD_IMAGES',
  /**
   * Read the clinical content of AI readings (outcome, findings, probabilities, heatmaps), radiologists'
   * reads and corrections, and notes; filter lists by them.
   */
  READ_PREDICTIONS = 'READ_PREDICTIONS',
  /** Follow batch analysis jobs (their progress and which prediction each study got). */
  READ_ANALYSIS_JOBS = 'READ_ANALYSIS_JOBS',
  /** Request analysis of a study. */
  ANALYZE_STUDIES = 'ANALYZE_STUDIES',
  /** Correct predictions and approve notes. */
  CORRECT_PREDICTIONS = 'CORRECT_PREDICTIONS',
  /** Open a study for reading, sign the final read and amend it (the radiologist's report). */
  REPORT_STUDIES = 'REPORT_STUDIES',
  /** Draft notes about predictions and follow drafts as they are written (drafts are not released text). */
  DRAFT_NOTES = 'DRAFT_NOTES',
  /** Subscribe to live events. */
  SUBSCRIBE = 'SUBSCRIBE',
  /** Manage users and mint their tokens. */
  MANAGE_USERS = 'MANAGE_USERS',
  /** Register, promote and roll back models; start training. */
  MANAGE_MODELS = 'MANAGE_MODELS',
  /** Read the model registry and training runs. */
  READ_MODELS = 'READ_MODELS',
  /** Read the audit trail. */
  READ_AUDIT = 'READ_AUDIT',
  /** Read drift alerts and monitoring figures. */
  READ_MONITORING = 'READ_MONITORING',
  /** Ingest studies from a PACS (DICOMweb QIDO/WADO-RS pull, STOW-RS push). */
  IMPORT_STUDIES = 'IMPORT_STUDIES',
  /** Store AI result reports (DICOM SR) back to the PACS. */
  EXPORT_RESULTS = 'EXPORT_RESULTS',
  /** Acknowledge and resolve drift alerts. */
  TRIAGE_DRIFT_ALERTS = 'TRIAGE_DRIFT_ALERTS',
  /** Register sites (hospitals, departments). */
  MANAGE_SITES = 'MANAGE_SITES',
  /** Add labelled studies to a site's validation set (the reference labels a site evaluation uses). */
  CURATE_SITE_VALIDATION = 'CURATE_SITE_VALIDATION',
  /**
   * Read how a model version does on a site's own films (aggregate evaluations, operating points, rollout
   * gates; no patient data) and follow changes of a site's validation status.
   */
  READ_SITE_VALIDATION = 'READ_SITE_VALIDATION',
}

/**
 * Role → permissions, from each role's day. Technicians: intake and QA (patients, studies, films,
 * analysis requests and their progress, whether the gate accepted a film; not the AI's clinical
 * content, which is the radiologist's to read). Radiologists: reading (AI results, the final read and
 * its amendments, corrections, notes, the site's reference labels). Integrators: the results feed, job
 * progress and whether a site is validated, read-only. Admins: models, users, sites and their
 * validation, the audit trail and monitoring, never patient data.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  [Role.TECHNICIAN]: [
    Permission.READ_PATIENT_DATA,
    Permission.WRITE_PATIENT_DATA,
    Permission.UPLOAD_IMAGES,
    Permission.ANALYZE_STUDIES,
    Permission.READ_ANALYSIS_JOBS,
    Permission.SUBSCRIBE,
    Permission.READ_MONITORING,
    Permission.IMPORT_STUDIES,
    Permission.TRIAGE_DRIFT_ALERTS,
  ],
  [Role.RADIOLOGIST]: [
    Permission.READ_PATIENT_DATA,
    Permission.READ_PREDICTIONS,
    Permission.ANALYZE_STUDIES,
    Permission.READ_ANALYSIS_JOBS,
    Permission.CORRECT_PREDICTIONS,
    Permission.REPORT_STUDIES,
    Permission.DRAFT_NOTES,
    Permission.SUBSCRIBE,
    Permission.READ_MODELS,
    Permission.READ_MONITORING,
    Permission.EXPORT_RESULTS,
    Permission.CURATE_SITE_VALIDATION,
    Permission.READ_SITE_VALIDATION,
  ],
  [Role.ADMIN]: [
    Permission.MANAGE_USERS,
    Permission.MANAGE_MODELS,
    Permission.READ_MODELS,
    Permission.READ_AUDIT,
    Permission.READ_MONITORING,
    Permission.TRIAGE_DRIFT_ALERTS,
    Permission.SUBSCRIBE,
    Permission.IMPORT_STUDIES,
    Permission.EXPORT_RESULTS,
    Permission.MANAGE_SITES,
    Permission.CURATE_SITE_VALIDATION,
    Permission.READ_SITE_VALIDATION,
  ],
  [Role.INTEGRATOR]: [
    Permission.READ_PATIENT_DATA,
    Permission.READ_PREDICTIONS,
    Permission.READ_ANALYSIS_JOBS,
    Permission.SUBSCRIBE,
    Permission.READ_SITE_VALIDATION,
  ],
};

/** True when `role` holds `permission`. */
export function roleHas(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}
