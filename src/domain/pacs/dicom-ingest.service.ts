import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import {
  AppError,
  databaseErrorOf,
  ImageError,
  ImageErrorCode,
  loggableError,
  NotFoundError,
  PacsError,
} from '../../errors';
import { MalformedMultipartError } from '../../errors/interop-errors';
import { readDicomIdentity } from '../../imaging';
import type { DecodedImageInfo } from '../../imaging';
import type { Logger } from '../../logging/logger';
import { Topic } from '../shared/events';
import {
  FailureReason,
  jsonNumber,
  jsonString,
  jsonStrings,
  stowResponse,
  stowStatus,
  DicomJson,
} from '../../interop/dicom-json';
import type { DicomWebClient, QidoQuery } from '../../interop/dicomweb.client';
import { parseMediaType, parseMultipart } from '../../interop/multipart';
import { sha256 } from '../../storage';
import { AuditAction, ImageView } from '../enums';
import { Image } from '../image/image.entity';
import { ImageService } from '../image/image.service';
import { Patient } from '../patient/patient.entity';
import { AdvisoryLockKey, lockForTransaction } from '../shared/advisory-lock';
import type { EventPublisher } from '../shared/event-publisher';
import type { RequestContext } from '../shared/request-context';
import { Study } from '../study/study.entity';
import { bodyPartOf, dateOf, namesOf, sexOf, viewOf } from './dicom-mapping';

/** What became of one DICOM instance offered for ingestion. */
export interface IngestOutcome {
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  status: 'STORED' | 'ALREADY_STORED' | 'FAILED';
  /** For FAILED: STOW-RS failure reason and our error code. */
  failure?: { reason: number; code: string };
  studyId?: string;
  patientId?: string;
}

/**
 * Port through which ingestion reports each instance offered, so the service knows no metrics library
 * (the Prometheus adapter is `monitoring/dicom-metrics.ts`).
 */
export interface DicomIngestObserver {
  /** One instance was offered: its source, outcome and refusal code (`none` when stored). */
  instanceOffered(event: { source: 'STOW' | 'IMPORT'; status: IngestOutcome['status']; code: string }): void;
}

/** Result of a STOW-RS request: HTTP status and the DICOM JSON response. */
export interface StowResult {
  status: number;
  body: DicomJson;
  outcomes: IngestOutcome[];
}

/** A study found by QIDO-RS on the PACS. Accession and patient id are PHI-adjacent: authorised readers only. */
export interface PacsStudy {
  studyInstanceUid: string;
  patientId: string;
  accessionNumber: string;
  studyDate: string;
  modalities: string[];
  numberOfInstances: number | null;
  /** Ids of our studies with this Study Instance UID (already imported). */
  studyIds: string[];
}

/** Refusal of one instance while mapping it to our records (rolled back, reported, not thrown further). */
class IngestRefusal extends Error {
  constructor(
    readonly reason: number,
    readonly code: string,
  ) {
    super(code);
  }
}

const IMAGE_FAILURES: Record<ImageErrorCode, number> = {
  EMPTY_UPLOAD: FailureReason.CANNOT_UNDERSTAND,
  UNSUPPORTED_MEDIA_TYPE: FailureReason.CANNOT_UNDERSTAND,
  CORRUPT_IMAGE: FailureReason.CANNOT_UNDERSTAND,
  UNSUPPORTED_TRANSFER_SYNTAX: FailureReason.TRANSFER_SYNTAX_NOT_SUPPORTED,
  UNSUPPORTED_IMAGE: FailureReason.SOP_CLASS_NOT_SUPPORTED,
  NOT_AN_IMAGE: FailureReason.SOP_CLASS_NOT_SUPPORTED,
  MULTI_FRAME_NOT_SUPPORTED: FailureReason.SOP_CLASS_NOT_SUPPORTED,
  IMAGE_TOO_LARGE: FailureReason.OUT_OF_RESOURCES,
  UPLOAD_TOO_LARGE: FailureReason.OUT_OF_RESOURCES,
};

/**
 * DICOM ingestion: STOW-RS pushes and QIDO/WADO-RS pulls become patients, studies and images through
 * the image intake. Matching is by DICOM identity, so ingesting the same study again adds nothing:
 * Patient ID → patient MRN, Study Instance UID → study, SOP Instance UID → image. Each instance is
 * one transaction (per-study advisory lock against concurrent pushes); a refused instance leaves
 * no row and no object.
 */
export class DicomIngestService {
  constructor(
    private readonly images: ImageService,
    private readonly client: DicomWebClient | null,
    private readonly events: EventPublisher,
    private readonly logger: Logger,
    private readonly limits: {
      /** Pixel budget: a deflated instance's header is read within it (see parseDicomDataSet). */
      maxPixels: number;
      /** Most instances one STOW-RS request may carry. */
      stowMaxInstances: number;
    },
    /** Where every instance offered is counted (Prometheus: `monitoring/dicom-metrics.ts`). */
    private readonly observer?: DicomIngestObserver,
  ) {}

  /** Handles a STOW-RS request body (multipart/related; type="application/dicom"). */
  async stow(
    ctx: RequestContext,
    body: Buffer,
    contentType: string | undefined,
    studyUid: string | null,
    retrieveBase: string,
  ): Promise<StowResult> {
    assertPermission(ctx.principal, Permission.IMPORT_STUDIES);
    const media = parseMediaType(contentType);
    if (media.type !== 'multipart/related')
      throw new ImageError(
        'UNSUPPORTED_MEDIA_TYPE',
        'STOW-RS takes multipart/related; type="application/dicom"',
        {
          contentType: media.type.slice(0, 100),
        },
      );
    const type = (media.params.type ?? 'application/dicom').toLowerCase();
    if (type !== 'application/dicom')
      throw new ImageError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Only application/dicom parts are accepted (no metadata/bulk data form)',
        {
          type: type.slice(0, 100),
        },
      );
    const parts = parseMultipart(body, contentType, this.limits.stowMaxInstances);
    if (parts.length === 0) throw new MalformedMultipartError('The multipart body holds no parts');
    const outcomes: IngestOutcome[] = [];
    for (const part of parts)
      outcomes.push(await this.ingestInstance(ctx, part.body, part.contentType || type, studyUid));
    this.count('STOW', outcomes);
    return {
      status: stowStatus(outcomes.map(toStow)),
      body: stowResponse(outcomes.map(toStow), studyUid ? `${retrieveBase}/studies/${studyUid}` : null),
      outcomes,
    };
  }

  /** QIDO-RS study search on the configured PACS, marking studies already imported. */
  async searchPacs(ctx: RequestContext, query: QidoQuery): Promise<PacsStudy[]> {
    assertPermission(ctx.principal, Permission.IMPORT_STUDIES);
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const found = await this.pacs().searchStudies(query);
    const uids = found.map((d) => jsonString(d, '0020000D')).filter(Boolean);
    const ours = uids.length ? await ctx.em.getRepository(Study).findByInstanceUids(uids) : [];
    return found
      .map((d) => {
        const uid = jsonString(d, '0020000D');
        return {
          studyInstanceUid: uid,
          patientId: jsonString(d, '00100020'),
          accessionNumber: jsonString(d, '00080050'),
          studyDate: jsonString(d, '00080020'),
          modalities: jsonStrings(d, '00080061'),
          numberOfInstances: jsonNumber(d, '00201208'),
          studyIds: ours.filter((s) => s.studyInstanceUid === uid).map((s) => s.id),
        };
      })
      .filter((s) => s.studyInstanceUid);
  }

  /** Retrieves a study from the PACS (WADO-RS) and ingests every instance. */
  async importStudy(
    ctx: RequestContext,
    studyUid: string,
  ): Promise<{ studyInstanceUid: string; outcomes: IngestOutcome[] }> {
    assertPermission(ctx.principal, Permission.IMPORT_STUDIES);
    const files = await this.pacs().retrieveStudy(studyUid);
    if (files.length === 0) throw NotFoundError.of('PacsStudy', studyUid);
    const outcomes: IngestOutcome[] = [];
    for (const file of files)
      outcomes.push(await this.ingestInstance(ctx, file, 'application/dicom', studyUid));
    this.count('IMPORT', outcomes);
    return { studyInstanceUid: studyUid, outcomes };
  }

  /**
   * Ingests one DICOM instance: decode and validate, map its identity to patient, study and view,
   * then store it in one transaction. Never throws for a bad instance: it reports why.
   */
  async ingestInstance(
    ctx: RequestContext,
    bytes: Buffer,
    contentType: string,
    expectedStudyUid: string | null,
  ): Promise<IngestOutcome> {
    const identity = await readDicomIdentity(bytes, this.limits.maxPixels);
    const outcome: IngestOutcome = {
      sopClassUid: identity?.sopClassUid ?? null,
      sopInstanceUid: identity?.sopInstanceUid ?? null,
      status: 'FAILED',
    };
    try {
      if (contentType !== 'application/dicom')
        throw new IngestRefusal(FailureReason.CANNOT_UNDERSTAND, 'UNSUPPORTED_MEDIA_TYPE');
      if (expectedStudyUid && identity?.studyInstanceUid && identity.studyInstanceUid !== expectedStudyUid)
        throw new IngestRefusal(FailureReason.DATA_SET_DOES_NOT_MATCH_SOP_CLASS, 'STUDY_UID_MISMATCH');
      // The very same bytes already stored under this study and SOP Instance UID (a re-import):
      // answer before decoding pixels. Other bytes with a known UID are validated in full first.
      const hash = sha256(bytes);
      const known = await this.alreadyStored(ctx.em, identity, hash);
      if (known) return Object.assign(outcome, known);
      const decoded = await this.images.validate(bytes, 'application/dicom', hash);
      const placed = this.place(decoded, expectedStudyUid);
      const stored = await this.images.ingest(ctx, bytes, decoded, (em, object) =>
        this.record(ctx, em, placed, { bytes, decoded, ...object }),
      );
      Object.assign(outcome, stored);
      if (stored.status === 'STORED')
        this.events.publish(Topic.STUDY_CHANGED, {
          studyId: stored.studyId,
          patientId: stored.patientId,
          change: 'IMAGE_ATTACHED',
        });
    } catch (error) {
      outcome.failure = this.failureOf(error);
    }
    return outcome;
  }

  private async alreadyStored(
    em: EntityManager,
    identity: { sopInstanceUid?: string; studyInstanceUid?: string } | null,
    hash: string,
  ): Promise<Pick<IngestOutcome, 'status' | 'studyId' | 'patientId'> | null> {
    if (!identity?.sopInstanceUid || !identity.studyInstanceUid) return null;
    const stored = await em
      .getRepository(Image)
      .findStoredInstance(identity.studyInstanceUid, identity.sopInstanceUid, hash);
    return stored ? { status: 'ALREADY_STORED', ...stored } : null;
  }

  private place(decoded: DecodedImageInfo, expectedStudyUid: string | null) {
    const d = decoded.dicom;
    const ids = decoded.identifiers ?? {};
    const refuse = (code: string, reason: number = FailureReason.DATA_SET_DOES_NOT_MATCH_SOP_CLASS) => {
      throw new IngestRefusal(reason, code);
    };
    if (!d) return refuse('NOT_DICOM', FailureReason.CANNOT_UNDERSTAND);
    if (!d.sopInstanceUid) return refuse('SOP_INSTANCE_UID_MISSING');
    if (!d.studyInstanceUid) return refuse('STUDY_UID_MISSING');
    if (expectedStudyUid && d.studyInstanceUid !== expectedStudyUid) return refuse('STUDY_UID_MISMATCH');
    const patientId = ids.patientId?.trim();
    if (!patientId) return refuse('PATIENT_ID_MISSING');
    if (!d.bodyPartExamined) return refuse('BODY_PART_MISSING');
    const bodyPart = bodyPartOf(d.bodyPartExamined);
    if (!bodyPart) return refuse('BODY_PART_NOT_SUPPORTED', FailureReason.SOP_CLASS_NOT_SUPPORTED);
    const view = viewOf(d.viewPosition);
    if (!view) return refuse(d.viewPosition ? 'VIEW_POSITION_NOT_SUPPORTED' : 'VIEW_POSITION_MISSING');
    return {
      patientId,
      studyUid: d.studyInstanceUid,
      sopUid: d.sopInstanceUid,
      bodyPart,
      view: view as ImageView,
      accession: ids.accessionNumber?.trim() ?? '',
      names: namesOf(ids.patientName),
      birthDate: dateOf(ids.patientBirthDate),
      sex: sexOf(ids.patientSex),
    };
  }

  private async record(
    ctx: RequestContext,
    em: EntityManager,
    p: ReturnType<DicomIngestService['place']>,
    file: { bytes: Buffer; decoded: DecodedImageInfo; key: string; hash: string },
  ): Promise<Pick<IngestOutcome, 'status' | 'studyId' | 'patientId'>> {
    // Serialise ingestion of one patient and one study across requests and processes (lock order: patient, study).
    await lockForTransaction(
      em,
      AdvisoryLockKey.hashtext(`dicom-patient:${p.patientId}`),
      AdvisoryLockKey.hashtext(`dicom-study:${p.studyUid}`),
    );
    let patient = await em.getRepository(Patient).findByMrn(p.patientId);
    if (!patient) {
      patient = em.create(Patient, {
        mrn: p.patientId,
        givenName: p.names.givenName,
        familyName: p.names.familyName,
        birthDate: p.birthDate,
        sex: p.sex,
      } as Patient);
      ctx.audit.write(em, {
        action: AuditAction.CREATE,
        entityType: 'Patient',
        entityId: patient.id,
        patientId: patient.id,
      });
    }
    let study = await em.getRepository(Study).findFirstByInstanceUid(p.studyUid);
    if (study) {
      if (study.patient.id !== patient.id)
        throw new IngestRefusal(FailureReason.DATA_SET_DOES_NOT_MATCH_SOP_CLASS, 'STUDY_PATIENT_MISMATCH');
      if (study.bodyPart !== p.bodyPart)
        throw new IngestRefusal(FailureReason.DATA_SET_DOES_NOT_MATCH_SOP_CLASS, 'BODY_PART_MISMATCH');
      if (await em.getRepository(Study).hasSopInstance(study.id, p.sopUid))
        return { status: 'ALREADY_STORED', studyId: study.id, patientId: patient.id };
    } else {
      const accessionFree = p.accession && (await em.getRepository(Study).isAccessionFree(p.accession));
      study = em.create(Study, {
        patient,
        bodyPart: p.bodyPart,
        accessionNumber: accessionFree ? p.accession : `DICOM-${p.studyUid}`,
        studyInstanceUid: p.studyUid,
        description: 'Imported over DICOMweb',
      } as Study);
      ctx.audit.write(em, {
        action: AuditAction.CREATE,
        entityType: 'Study',
        entityId: study.id,
        patientId: patient.id,
      });
    }
    this.images.recordAttached(ctx, em, { study, view: p.view, ...file });
    await em.flush();
    return { status: 'STORED', studyId: study.id, patientId: patient.id };
  }

  private failureOf(error: unknown): { reason: number; code: string } {
    if (error instanceof IngestRefusal) return { reason: error.reason, code: error.code };
    if (error instanceof ImageError) return { reason: IMAGE_FAILURES[error.code], code: error.code };
    if (error instanceof AppError) return { reason: FailureReason.PROCESSING_FAILURE, code: error.code };
    // A database error is mapped by SQLSTATE (a value PostgreSQL refused is the instance's fault) and
    // logged without its message, which inlines the statement's values (the patient's name, MRN, dates).
    const mapped = databaseErrorOf(error);
    this.logger[mapped ? 'warn' : 'error'](
      { err: loggableError(error), code: mapped?.code },
      'DICOM ingestion failed',
    );
    if (mapped?.code === 'BAD_USER_INPUT')
      return { reason: FailureReason.DATA_SET_DOES_NOT_MATCH_SOP_CLASS, code: mapped.code };
    if (mapped) return { reason: FailureReason.PROCESSING_FAILURE, code: mapped.code };
    return { reason: FailureReason.PROCESSING_FAILURE, code: 'INTERNAL_SERVER_ERROR' };
  }

  private count(source: 'STOW' | 'IMPORT', outcomes: IngestOutcome[]): void {
    for (const o of outcomes)
      this.observer?.instanceOffered({ source, status: o.status, code: o.failure?.code ?? 'none' });
  }

  private pacs(): DicomWebClient {
    if (!this.client)
      throw new PacsError('PACS_NOT_CONFIGURED', 'No PACS is configured (set PACS_DICOMWEB_URL)');
    return this.client;
  }
}

function toStow(o: IngestOutcome) {
  return { sopClassUid: o.sopClassUid, sopInstanceUid: o.sopInstanceUid, failure: o.failure };
}
