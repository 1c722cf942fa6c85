import { Role } from '../domain/enums';

/**
 * What each role may do. The only place role rules live: resolvers name a permission with
 * `@Authorized(Permission.X)`, HTTP routes call `assertPermission`, and the role matrix test reads this table.
 */
export enum Permission {
  /** Read patients, studies and images (PHI). */
  READ_PATIENT_DATA = 'READ_PATIENT_DATA',
  /** Register and edit patients and studies. */
  WRITE_PATIENT_DATA = 'WRITE_PATIENT_DATA',
  /** Upload radiographs and attach them to studies. */
  UPLOAD_IMAGES = 'UPLOAD_IMAGES',
  /** Read AI predictions and their heatmaps. */
  READ_PREDICTIONS = 'READ_PREDICTIONS',
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
}

/** Role → permissions. Technicians acquire images, radiologists read and correct, admins run the system, integrators consume results. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  [Role.TECHNICIAN]: [
    Permission.READ_PATIENT_DATA,
    Permission.WRITE_PATIENT_DATA,
    Permission.UPLOAD_IMAGES,
    Permission.ANALYZE_STUDIES,
    Permission.SUBSCRIBE,
    Permission.READ_MONITORING,
    Permission.IMPORT_STUDIES,
    Permission.TRIAGE_DRIFT_ALERTS,
  ],
  [Role.RADIOLOGIST]: [
    Permission.READ_PATIENT_DATA,
    Permission.READ_PREDICTIONS,
    Permission.ANALYZE_STUDIES,
    Permission.CORRECT_PREDICTIONS,
    Permission.REPORT_STUDIES,
    Permission.DRAFT_NOTES,
    Permission.SUBSCRIBE,
    Permission.READ_MODELS,
    Permission.READ_MONITORING,
    Permission.EXPORT_RESULTS,
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
  ],
  [Role.INTEGRATOR]: [Permission.READ_PATIENT_DATA, Permission.READ_PREDICTIONS, Permission.SUBSCRIBE],
};

/** True when `role` holds `permission`. */
export function roleHas(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}
