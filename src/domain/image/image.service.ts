import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission, Principal } from '../../auth/principal';
import {
  ImageError,
  IntakeMismatchCode,
  IntakeMismatchError,
  InvalidStateError,
  NotFoundError,
  ValidationError,
} from '../../errors';
import { DecodedImageInfo, detectFormat, readDicomIdentity } from '../../imaging';
import type { ImageInspector } from '../../inference/image-preparer';
import { Topic } from '../shared/events';
import { contentAddressedKey, ObjectStore, sha256 } from '../../storage';
import { AuditAction, ImageFormat, ImageView, StudyStatus } from '../enums';
import type { EventPublisher } from '../shared/event-publisher';
import { isUuid } from '../shared/filters';
import { flushAsOneStatement } from '../shared/flush-as-one-statement';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { Study } from '../study/study.entity';
import { Upload } from '../upload/upload.entity';
import { User } from '../user/user.entity';
import { Image, ImageMetadata } from './image.entity';
import { readAttachInputs } from './image.repository';
import { intakeMismatches } from './intake-checks';

/** The unique index that lets one attach of an upload win (migration Migration20261207041500). */
const IMAGE_UPLOAD_UNIQUE = 'image_upload_id_unique';

/** An explicit acceptance of DICOM header mismatches at attach: which ones, and why. */
export interface IntakeOverrideInput {
  accept: IntakeMismatchCode[];
  reason: string;
}

/** Intake rules beyond file limits. */
export interface IntakeOptions {
  /** Issuer of Patient ID of this hospital's MRNs (DICOM_PATIENT_ID_ISSUER), or null. */
  patientIdIssuer: string | null;
  /** Uploads never attached are swept once older than this (UPLOAD_RETENTION_SECONDS). */
  uploadRetentionSeconds: number;
}

/** Longest override reason accepted, in characters. */
const MAX_OVERRIDE_REASON = 1000;

/** Study states that take images: before the radiologist opened it (a signed read is amended, not re-imaged). */
const TAKES_IMAGES: readonly StudyStatus[] = [
  StudyStatus.REGISTERED,
  StudyStatus.IMAGES_ATTACHED,
  StudyStatus.ANALYZED,
  StudyStatus.FAILED,
];

/** Limits applied to every file before it is stored. */
export interface IntakeLimits {
  maxUploadBytes: number;
  maxImagePixels: number;
  maxBase64UploadBytes: number;
}

const CONTENT_TYPES: Record<string, ImageFormat | null> = {
  'application/dicom': ImageFormat.DICOM,
  'image/png': ImageFormat.PNG,
  'image/jpeg': ImageFormat.JPEG,
  'application/octet-stream': null,
};

const EXTENSIONS: Record<ImageFormat, string> = { DICOM: 'dcm', PNG: 'png', JPEG: 'jpg' };

const DICOM_ATTRIBUTES_KEPT = [
  'modality',
  'bodyPartExamined',
  'viewPosition',
  'imageLaterality',
  'manufacturer',
  'sopClassUid',
  'sopInstanceUid',
  'seriesInstanceUid',
  'studyInstanceUid',
  'rescaleSlope',
  'rescaleIntercept',
  'windowCenter',
  'windowWidth',
  'bitsAllocated',
  'pixelRepresentation',
] as const;

/**
 * Radiograph intake: validate and decode a file, store it content-addressed, record it, attach it to
 * a study. The object is written before the row; if the row cannot be written, the object is removed
 * again unless another row already references the same content, so the store and the database agree.
 * Decoding goes through the `inspector` port (the decode pool: worker threads, a bounded number at
 * once), never on the event loop (regression: a 7000² RLE upload blocked every request for 1.3 s).
 */
export class ImageService {
  constructor(
    private readonly store: ObjectStore,
    private readonly rootEm: EntityManager,
    private readonly limits: IntakeLimits,
    private readonly pageMax: number,
    private readonly events: EventPublisher,
    private readonly inspector: ImageInspector,
    private readonly intake: IntakeOptions = { patientIdIssuer: null, uploadRetentionSeconds: 86_400 },
  ) {}

  /** Validates, decodes and stores a file; returns the staged upload to attach. */
  async stage(ctx: RequestContext, bytes: Buffer, contentType: string | undefined): Promise<Upload> {
    const principal = assertPermission(ctx.principal, Permission.UPLOAD_IMAGES);
    const hash = sha256(bytes);
    // The durable write of the file runs while the decode worker checks it, when the bytes already say
    // which format they are (the key and content type follow from it); a refused file is removed again.
    const detected = this.cheapChecks(bytes, contentType);
    const early = detected
      ? this.store.put(contentAddressedKey('images', hash, EXTENSIONS[detected]), bytes, {
          contentType: contentTypeOf(detected),
        })
      : null;
    // Handled here too: a store that fails during the decode must not reject unobserved.
    early?.catch(() => undefined);
    let decoded: DecodedImageInfo;
    try {
      decoded = await this.validate(bytes, contentType, hash);
    } catch (error) {
      if (early) {
        await early.catch(() => undefined);
        await this.removeIfUnreferenced(contentAddressedKey('images', hash, EXTENSIONS[detected!]));
      }
      throw error;
    }
    const format = decoded.format as ImageFormat;
    const key = contentAddressedKey('images', hash, EXTENSIONS[format]);
    if (early && detected === format) await early;
    else {
      if (early) {
        await early.catch(() => undefined);
        await this.removeIfUnreferenced(contentAddressedKey('images', hash, EXTENSIONS[detected!]));
      }
      await this.store.put(key, bytes, { contentType: contentTypeOf(format) });
    }
    const upload = ctx.em.create(Upload, {
      sha256: hash,
      objectKey: key,
      format,
      sizeBytes: bytes.length,
      metadata: metadataOf(decoded),
      uploadedBy: ctx.em.getReference(User, principal.userId),
    } as Upload);
    ctx.audit.write(ctx.em, { action: AuditAction.UPLOAD, entityType: 'Upload', entityId: upload.id });
    try {
      // The upload and its audit row in one statement: they commit together, in one round trip.
      await flushAsOneStatement(ctx.em);
    } catch (error) {
      await this.removeIfUnreferenced(key);
      throw error;
    }
    return upload;
  }

  /**
   * Checks size, declared and detected format, and decodes the file (pixel limit, transfer syntax,
   * frames); throws {@link ImageError} with the reason. Authorisation is the caller's.
   */
  async validate(
    bytes: Buffer,
    contentType: string | undefined,
    contentSha256?: string,
  ): Promise<DecodedImageInfo> {
    this.cheapChecks(bytes, contentType);
    const declared = this.declaredFormat(contentType);
    // With its hash, the one decode also keeps the film's model inputs for the analysis (decode once).
    const decoded = await this.inspector.inspect(bytes, contentSha256);
    if (declared && declared !== decoded.format) {
      throw new ImageError('UNSUPPORTED_MEDIA_TYPE', 'The content type does not match the file', {
        declared,
        detected: decoded.format,
      });
    }
    return decoded;
  }

  /**
   * The checks that need no decode: size, and the declared type against the bytes' signature; returns
   * the format the signature names (null when it names none).
   */
  private cheapChecks(bytes: Buffer, contentType: string | undefined): ImageFormat | null {
    if (bytes.length === 0) throw ImageError.empty();
    if (bytes.length > this.limits.maxUploadBytes) {
      throw new ImageError('UPLOAD_TOO_LARGE', 'The upload exceeds the size limit', {
        bytes: bytes.length,
        limit: this.limits.maxUploadBytes,
      });
    }
    const declared = this.declaredFormat(contentType);
    const detected = detectFormat(bytes);
    if (declared && detected && declared !== detected) {
      throw new ImageError('UNSUPPORTED_MEDIA_TYPE', 'The content type does not match the file', {
        declared,
        detected,
      });
    }
    return (detected as ImageFormat | null) ?? null;
  }

  /**
   * Ingestion path (DICOMweb): stores a validated file's object, then runs `record` in one database
   * transaction, in which the caller resolves patient and study and calls {@link recordAttached}.
   * When the transaction fails the object is removed again unless a committed row uses it, so a
   * refused instance leaves nothing behind. Authorisation is the caller's.
   */
  async ingest<T>(
    ctx: RequestContext,
    bytes: Buffer,
    decoded: DecodedImageInfo,
    record: (em: EntityManager, stored: { key: string; hash: string }) => Promise<T>,
  ): Promise<T> {
    const hash = sha256(bytes);
    const format = decoded.format as ImageFormat;
    const key = contentAddressedKey('images', hash, EXTENSIONS[format]);
    await this.store.put(key, bytes, { contentType: contentTypeOf(format) });
    try {
      return await ctx.em.transactional((em) => record(em, { key, hash }));
    } catch (error) {
      await this.removeIfUnreferenced(key);
      throw error;
    }
  }

  /** Records an ingested file as an attached upload and an image of `study` in `em` (no flush). */
  recordAttached(
    ctx: RequestContext,
    em: EntityManager,
    input: {
      study: Study;
      view: ImageView;
      bytes: Buffer;
      decoded: DecodedImageInfo;
      key: string;
      hash: string;
    },
  ): Image {
    const principal = ctx.principal as Principal;
    const { study, decoded } = input;
    assertTakesImages(study);
    const m = metadataOf(decoded);
    const format = decoded.format as ImageFormat;
    const upload = em.create(Upload, {
      sha256: input.hash,
      objectKey: input.key,
      format,
      sizeBytes: input.bytes.length,
      metadata: m,
      uploadedBy: em.getReference(User, principal.userId),
      attachedAt: new Date(),
    } as Upload);
    const image = em.create(Image, {
      study,
      view: input.view,
      ...imageColumns(upload),
      uploadId: upload.id,
      uploadedBy: em.getReference(User, principal.userId),
    } as Image);
    markImagesAttached(study);
    ctx.audit.write(em, { action: AuditAction.UPLOAD, entityType: 'Upload', entityId: upload.id });
    ctx.audit.write(em, {
      action: AuditAction.CREATE,
      entityType: 'Image',
      entityId: image.id,
      patientId: study.patient.id,
    });
    return image;
  }

  /**
   * Attaches a staged upload to a study with its view (each upload once). A DICOM file whose header
   * names another patient, issuer, study, accession, body part or view is refused with that mismatch's
   * code, unless `override.accept` names every mismatch found (then it is recorded on the image and audited).
   */
  async attach(
    ctx: RequestContext,
    input: { studyId: string; uploadId: string; view: ImageView; override?: IntakeOverrideInput | null },
  ): Promise<Image> {
    const principal = assertPermission(ctx.principal, Permission.UPLOAD_IMAGES);
    // Both in one statement; the upload's checks come first, as before.
    const { upload, study } = await readAttachInputs(
      ctx.em,
      isUuid(input.uploadId) ? input.uploadId : null,
      isUuid(input.studyId) ? input.studyId : null,
    );
    if (!upload) throw NotFoundError.of('Upload', input.uploadId);
    if (upload.attachedAt)
      throw new InvalidStateError('This upload is already attached', { uploadId: upload.id });
    if (upload.uploadedBy && upload.uploadedBy.id !== principal.userId)
      throw NotFoundError.of('Upload', input.uploadId);
    if (!study) throw NotFoundError.of('Study', input.studyId);
    return this.attachTo(ctx, study, upload, input.view, input.override ?? null);
  }

  /** Stages and attaches a small base64 file in one step (size limited by configuration). */
  async attachBase64(
    ctx: RequestContext,
    input: { studyId: string; view: ImageView; dataBase64: string; override?: IntakeOverrideInput | null },
  ): Promise<Image> {
    assertPermission(ctx.principal, Permission.UPLOAD_IMAGES);
    const limit = this.limits.maxBase64UploadBytes;
    if (input.dataBase64.length > Math.ceil((limit * 4) / 3) + 4) {
      throw new ImageError(
        'UPLOAD_TOO_LARGE',
        `Inline uploads are limited to ${limit} bytes; use POST /uploads`,
        { limit },
      );
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input.dataBase64.replace(/\s/g, ''))) {
      throw new ValidationError('dataBase64 is not valid base64', { field: 'dataBase64' });
    }
    const study = isUuid(input.studyId)
      ? await ctx.em.getRepository(Study).findWithPatient(input.studyId)
      : null;
    if (!study) throw NotFoundError.of('Study', input.studyId);
    const upload = await this.stage(ctx, Buffer.from(input.dataBase64, 'base64'), undefined);
    return this.attachTo(ctx, study, upload, input.view, input.override ?? null);
  }

  /**
   * Removes uploads never attached once older than UPLOAD_RETENTION_SECONDS: their rows, and their
   * objects unless an image or another upload uses the same content. Returns how many were removed.
   */
  async sweepUnattached(now: Date = new Date()): Promise<number> {
    const em = this.rootEm.fork();
    const cutoff = new Date(now.getTime() - this.intake.uploadRetentionSeconds * 1000);
    const stale = await em.getRepository(Upload).findUnattachedBefore(cutoff, 500);
    if (stale.length === 0) return 0;
    await em.getRepository(Upload).deleteUnattached(stale.map((u) => u.id));
    for (const key of new Set(stale.map((u) => u.objectKey))) await this.removeIfUnreferenced(key);
    return stale.length;
  }

  /** Lists images (audited through their study's patient). */
  async list(
    ctx: RequestContext,
    filter: { studyId?: string | null; view?: ImageView | null },
    page: PageArgs,
  ): Promise<Page<Image>> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    if (filter.studyId && !isUuid(filter.studyId))
      throw new ValidationError('studyId is not a valid id', { field: 'studyId' });
    const result = await ctx.em.getRepository(Image).findPage(filter, page, this.pageMax);
    await this.auditImages(ctx, result.items);
    return result;
  }

  /** Images of a study (batched through the request's loader). */
  async forStudy(ctx: RequestContext, studyId: string, patientId: string): Promise<Image[]> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const images = await ctx.loaders.imagesByStudyId.load(studyId);
    for (const image of images) ctx.audit.read('Image', image.id, patientId);
    return images;
  }

  /** Returns the stored bytes of an image for download (audited). */
  async download(
    ctx: RequestContext,
    imageId: string,
  ): Promise<{ bytes: Buffer; contentType: string; sha256: string }> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const image = isUuid(imageId) ? await ctx.em.getRepository(Image).findWithStudy(imageId) : null;
    if (!image) throw NotFoundError.of('Image', imageId);
    ctx.audit.read('Image', image.id, image.study.patient.id);
    return {
      bytes: await this.store.get(image.objectKey),
      contentType: contentTypeOf(image.format),
      sha256: image.sha256,
    };
  }

  private async attachTo(
    ctx: RequestContext,
    study: Study,
    upload: Upload,
    view: ImageView,
    override: IntakeOverrideInput | null,
  ): Promise<Image> {
    const principal = ctx.principal as Principal;
    assertTakesImages(study);
    const reason = override?.reason?.trim() ?? '';
    if (override && (!reason || reason.length > MAX_OVERRIDE_REASON))
      throw new ValidationError(`override.reason is required (at most ${MAX_OVERRIDE_REASON} characters)`, {
        field: 'override.reason',
      });
    const { accepted, fileStudyUid } = await this.checkFileIdentity(study, upload, view, override);
    const image = ctx.em.create(Image, {
      study,
      view,
      ...imageColumns(upload),
      uploadId: upload.id,
      uploadedBy: ctx.em.getReference(User, principal.userId),
      intakeOverride: accepted.length
        ? { checks: accepted, reason, userId: principal.userId, at: new Date().toISOString() }
        : null,
    } as Image);
    upload.attachedAt = new Date();
    markImagesAttached(study);
    // A study registered without its DICOM identity takes it from its first DICOM film.
    if (!study.studyInstanceUid && fileStudyUid && !accepted.includes('STUDY_UID_MISMATCH'))
      study.studyInstanceUid = fileStudyUid;
    ctx.audit.write(ctx.em, {
      action: AuditAction.CREATE,
      entityType: 'Image',
      entityId: image.id,
      patientId: study.patient.id,
    });
    if (accepted.length)
      ctx.audit.write(ctx.em, {
        action: AuditAction.CREATE,
        entityType: 'IntakeOverride',
        entityId: image.id,
        patientId: study.patient.id,
      });
    // The image, the upload and study changes, the audit rows and the STUDY_CHANGED event: one
    // statement, all or nothing. Of two attaches of one upload that both read it unattached, the image's
    // unique upload id keeps one.
    const changed = { studyId: study.id, patientId: study.patient.id, change: 'IMAGE_ATTACHED' };
    const notification = this.events.notification?.(Topic.STUDY_CHANGED, changed);
    let published: boolean;
    try {
      published = await flushAsOneStatement(ctx.em, notification ? [notification] : []);
    } catch (error) {
      // Only the upload's own index: the study's unique DICOM study UID, also written here, is another matter.
      if (error instanceof UniqueConstraintViolationException && error.message.includes(IMAGE_UPLOAD_UNIQUE))
        throw new InvalidStateError(
          'This upload is already attached',
          { uploadId: upload.id },
          { cause: error },
        );
      throw error;
    }
    if (!published || !notification) this.events.publish(Topic.STUDY_CHANGED, changed);
    return image;
  }

  /**
   * The file's own header against the study: a DICOM of another patient, examination or body part is
   * refused before anything is recorded, unless each mismatch is accepted by name. Returns the accepted
   * mismatches and the file's study UID (null for a non-DICOM file or one without it).
   */
  private async checkFileIdentity(
    study: Study,
    upload: Upload,
    view: ImageView,
    override: IntakeOverrideInput | null,
  ): Promise<{ accepted: IntakeMismatchCode[]; fileStudyUid: string | null }> {
    if (upload.format === ImageFormat.DICOM) {
      const identity = await readDicomIdentity(
        await this.store.get(upload.objectKey),
        this.limits.maxImagePixels,
      );
      if (identity) {
        const fileStudyUid = identity.studyInstanceUid?.trim() || null;
        const mismatches = intakeMismatches(
          identity,
          {
            mrn: study.patient.mrn,
            studyInstanceUid: study.studyInstanceUid ?? null,
            accessionNumber: study.accessionNumber,
            bodyPart: study.bodyPart,
          },
          view,
          this.intake.patientIdIssuer,
        );
        const refused = mismatches.filter((m) => !override?.accept.includes(m));
        if (refused.length)
          throw new IntakeMismatchError(refused[0]!, {
            studyId: study.id,
            uploadId: upload.id,
            mismatches: refused,
          });
        return { accepted: mismatches, fileStudyUid };
      }
    }
    return { accepted: [], fileStudyUid: null };
  }

  private async auditImages(ctx: RequestContext, images: Image[]): Promise<void> {
    const studies = await Promise.all(images.map((i) => ctx.loaders.studyById.load(i.study.id)));
    images.forEach((image, i) => ctx.audit.read('Image', image.id, studies[i]?.patient.id ?? null));
  }

  private declaredFormat(contentType: string | undefined): ImageFormat | null {
    if (!contentType) return null;
    const base = contentType.split(';')[0].trim().toLowerCase();
    if (!(base in CONTENT_TYPES)) {
      throw new ImageError('UNSUPPORTED_MEDIA_TYPE', 'Send application/dicom, image/png or image/jpeg', {
        contentType: base.slice(0, 100),
      });
    }
    return CONTENT_TYPES[base];
  }

  /** Compensation after a failed row write: drop the object unless a committed row uses it. */
  private async removeIfUnreferenced(key: string): Promise<void> {
    const em = this.rootEm.fork();
    const [uploads, images] = await Promise.all([
      em.getRepository(Upload).countByObjectKey(key),
      em.getRepository(Image).countByObjectKey(key),
    ]);
    if (uploads + images === 0) await this.store.delete(key);
  }
}

/** Refuses images for a study a radiologist has opened or signed (INVALID_STATE). */
function assertTakesImages(study: Study): void {
  if (!TAKES_IMAGES.includes(study.status))
    throw new InvalidStateError(
      'Images cannot be attached once a radiologist has opened or signed the study',
      {
        status: study.status,
      },
    );
}

/** A registered study takes IMAGES_ATTACHED with its first image; later states keep theirs. */
function markImagesAttached(study: Study): void {
  if (study.status === StudyStatus.REGISTERED) study.status = StudyStatus.IMAGES_ATTACHED;
}

/** An image's columns taken from the upload that brought its file. */
function imageColumns(upload: Upload) {
  const m = upload.metadata;
  return {
    format: upload.format,
    width: m.width,
    height: m.height,
    bitsStored: m.bitsStored,
    photometric: m.photometric,
    transferSyntaxUid: m.transferSyntaxUid ?? null,
    sha256: upload.sha256,
    objectKey: upload.objectKey,
    sizeBytes: upload.sizeBytes,
    dicomAttributes: m.dicom ?? null,
  };
}

function contentTypeOf(format: ImageFormat): string {
  return format === ImageFormat.DICOM
    ? 'application/dicom'
    : format === ImageFormat.PNG
      ? 'image/png'
      : 'image/jpeg';
}

function metadataOf(decoded: DecodedImageInfo): ImageMetadata {
  let dicom: Record<string, string | number | null> | null = null;
  if (decoded.dicom) {
    dicom = {};
    const source = decoded.dicom as unknown as Record<string, unknown>;
    for (const key of DICOM_ATTRIBUTES_KEPT) {
      const value = source[key];
      if (typeof value === 'string' || typeof value === 'number') dicom[key] = value;
    }
  }
  return {
    width: decoded.width,
    height: decoded.height,
    bitsStored: decoded.bitsStored,
    photometric: decoded.photometric,
    transferSyntaxUid: decoded.transferSyntaxUid ?? null,
    dicom,
  };
}
