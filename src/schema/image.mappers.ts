import type { Image } from '../domain/image/image.entity';
import type { Upload } from '../domain/upload/upload.entity';
import { ImageType, UploadReceiptType } from './image.types';

export const toImage = (i: Image): ImageType =>
  Object.assign(new ImageType(), {
    id: i.id,
    studyId: i.study.id,
    view: i.view,
    format: i.format,
    width: i.width,
    height: i.height,
    bitsStored: i.bitsStored,
    photometric: i.photometric,
    transferSyntaxUid: i.transferSyntaxUid ?? null,
    sha256: i.sha256,
    sizeBytes: i.sizeBytes,
    dicomAttributes: i.dicomAttributes ?? null,
    url: `/images/${i.id}`,
    intakeOverride: i.intakeOverride
      ? {
          accepted: i.intakeOverride.checks,
          reason: i.intakeOverride.reason,
          userId: i.intakeOverride.userId,
          at: new Date(i.intakeOverride.at),
        }
      : null,
    createdAt: i.createdAt,
  });

export const toUploadReceipt = (u: Upload): UploadReceiptType =>
  Object.assign(new UploadReceiptType(), {
    uploadId: u.id,
    sha256: u.sha256,
    format: u.format,
    width: u.metadata.width,
    height: u.metadata.height,
    bitsStored: u.metadata.bitsStored,
  });
