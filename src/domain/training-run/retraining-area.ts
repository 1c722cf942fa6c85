import { createHash, createHmac } from 'node:crypto';
import { deidentifyImage, DeidentifiedImage, ImageLimits } from '../../imaging';
import type { ObjectStore } from '../../storage';
import { csvField } from '../../training/csv';
import { ModelTask } from '../enums';

/** Top-level prefix of the retraining area in the object store. */
const RETRAINING_PREFIX = 'retraining';

/** One row of a task's retraining manifest (`retraining/<task>/manifest.csv`). */
export interface RetrainingManifestRow {
  objectKey: string;
  trueLabel: string;
  predictedLabel: string | null;
  modelVersion: string | null;
  group: string;
  correctionId: string;
}

/** Columns of the manifest, in order. */
const MANIFEST_COLUMNS = [
  'object_key',
  'true_label',
  'predicted_label',
  'model_version',
  'group',
  'correction_id',
] as const;

/**
 * The retraining area, laid out as the original design describes: de-identified copies of corrected
 * images in folders named after the TRUE label, and a CSV manifest of predicted vs true label and
 * model version per task, from which the retraining dataset is assembled.
 *
 *   retraining/<task>/<TRUE_LABEL>/<sha256(image id)[:32]>.dcm|.png
 *   retraining/<task>/manifest.csv
 *
 * Keys and the manifest hold ids, hashes and labels only: no name, MRN, accession number or date.
 * Patients appear as a keyed-hash pseudonym (`group`) so that splits can be grouped by patient.
 *
 * Part of the retraining feature (`domain/training-run/`): corrections fill it (CorrectionService),
 * RetrainingService reads it; the trainer side, `training/retraining-dataset.ts`, assembles the
 * training files from it.
 */
export class RetrainingArea {
  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    private readonly limits: ImageLimits,
  ) {}

  /** Pseudonym of a patient (keyed hash of the internal id; the key never leaves the server). */
  pseudonym(patientId: string): string {
    return `P-${createHmac('sha256', this.key).update(`patient:${patientId}`).digest('hex').slice(0, 20)}`;
  }

  /** Object key of the copy of one image under a true label. */
  objectKey(task: ModelTask, label: string, imageId: string, extension: string): string {
    const h = createHash('sha256').update(`image:${imageId}`).digest('hex').slice(0, 32);
    return `${RETRAINING_PREFIX}/${task.toLowerCase()}/${label}/${h}.${extension}`;
  }

  /** De-identifies an image (throws the imaging error when it cannot). */
  deidentify(bytes: Buffer, patientId: string): Promise<DeidentifiedImage> {
    return deidentifyImage(bytes, { uidKey: this.key, pseudonym: this.pseudonym(patientId) }, this.limits);
  }

  /** Stores a de-identified copy; metadata holds no PHI (labels only). */
  async put(key: string, image: DeidentifiedImage, label: string): Promise<void> {
    await this.store.put(key, image.bytes, {
      contentType: image.contentType,
      metadata: {
        'true-label': label,
        deidentified: image.format === 'DICOM' ? 'ps3.15-basic' : 'reencoded',
      },
    });
  }

  async delete(keys: string[]): Promise<void> {
    for (const k of keys) await this.store.delete(k);
  }

  get(key: string): Promise<Buffer> {
    return this.store.get(key);
  }

  /** Rewrites a task's manifest from the given rows (the database is the source of truth). */
  async writeManifest(task: ModelTask, rows: RetrainingManifestRow[]): Promise<string> {
    const key = `${RETRAINING_PREFIX}/${task.toLowerCase()}/manifest.csv`;
    const lines = [MANIFEST_COLUMNS.join(',')];
    for (const r of rows)
      lines.push(
        [r.objectKey, r.trueLabel, r.predictedLabel, r.modelVersion, r.group, r.correctionId]
          .map(csvField)
          .join(','),
      );
    await this.store.put(key, Buffer.from(`${lines.join('\n')}\n`, 'utf8'), { contentType: 'text/csv' });
    return key;
  }
}
