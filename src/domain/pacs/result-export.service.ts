import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { InvalidStateError, NotFoundError, PacsError } from '../../errors';
import { buildAiReportSr, COMPREHENSIVE_SR_SOP_CLASS, SrEvidence } from '../../interop/ai-report.sr';
import type { AiResult, RadiologistReview } from '../../interop/ai-result';
import { deriveUid } from '../../interop/dicom-uid';
import { jsonString } from '../../interop/dicom-json';
import type { DicomJson } from '../../interop/dicom-json';
import type { DicomWebClient } from '../../interop/dicomweb.client';
import {
  fhirBundle,
  fhirImagingStudy,
  fhirPatient,
  fhirReportResources,
  FhirReportInput,
  FhirResource,
} from '../../interop/fhir-report';
import { AuditAction, ReviewSource, StudyStatus } from '../enums';
import { Image } from '../image/image.entity';
import { Patient } from '../patient/patient.entity';
import { Prediction } from '../prediction/prediction.entity';
import { RadiologistTruth, truthForPrediction } from '../read/radiologist-review';
import { Study } from '../study/study.entity';
import { User } from '../user/user.entity';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { dicomPatient } from './dicom-mapping';

/** Where an exported report went. */
export interface DicomExport {
  predictionId: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
}

/** Export options. */
export interface ExportOptions {
  /** Root of the UIDs the product makes (DICOM_UID_ROOT). */
  uidRoot: string;
  /** Written as Manufacturer (0008,0070). */
  manufacturer: string;
}

/**
 * Results out: a DICOM Comprehensive SR stored back to the PACS with STOW-RS (into the source study,
 * referencing its images), and FHIR R4 DiagnosticReport + Observations for the EHR. UIDs derive from
 * the prediction id, so exporting again names the same object.
 */
export class ResultExportService {
  constructor(
    private readonly client: DicomWebClient | null,
    private readonly options: ExportOptions,
  ) {}

  /** Builds the SR of a prediction and stores it on the PACS. */
  async exportToPacs(ctx: RequestContext, predictionId: string): Promise<DicomExport> {
    assertPermission(ctx.principal, Permission.EXPORT_RESULTS);
    const { prediction, images } = await this.load(ctx, predictionId);
    const study = prediction.study;
    if (!study.studyInstanceUid)
      throw new InvalidStateError('The study has no DICOM Study Instance UID to report into', {
        studyId: study.id,
      });
    const evidence: SrEvidence[] = images.flatMap((i) => {
      const a = i.dicomAttributes ?? {};
      const [series, sopClass, sop] = [a.seriesInstanceUid, a.sopClassUid, a.sopInstanceUid];
      return typeof series === 'string' && typeof sopClass === 'string' && typeof sop === 'string'
        ? [{ seriesInstanceUid: series, sopClassUid: sopClass, sopInstanceUid: sop }]
        : [];
    });
    if (evidence.length === 0)
      throw new InvalidStateError('The study has no DICOM images to reference', { studyId: study.id });
    if (!this.client)
      throw new PacsError('PACS_NOT_CONFIGURED', 'No PACS is configured (set PACS_DICOMWEB_URL)');
    const truth = await truthForPrediction(ctx.em, prediction);
    // One SR per state of the report: the AI result alone, then one per signed read version.
    const uids = {
      series: deriveUid(this.options.uidRoot, `sr-series:${prediction.id}`),
      instance: deriveUid(
        this.options.uidRoot,
        truth?.read ? `sr-instance:${prediction.id}:${truth.read.id}` : `sr-instance:${prediction.id}`,
      ),
    };
    const patient = study.patient;
    const sr = buildAiReportSr({
      patient: {
        id: patient.mrn,
        birthDate: patient.birthDate?.replace(/-/g, '') ?? null,
        ...dicomPatient(patient),
      },
      study: {
        studyInstanceUid: study.studyInstanceUid,
        accessionNumber: study.accessionNumber.startsWith('DICOM-') ? '' : study.accessionNumber,
      },
      evidence,
      uids,
      result: this.resultOf(prediction),
      created: prediction.createdAt,
      manufacturer: this.options.manufacturer,
      review: await this.reviewOf(ctx, truth),
    });
    const response = await this.client.store([sr], study.studyInstanceUid);
    const failed = failedUids(response);
    if (failed.includes(uids.instance) || !storedUids(response).includes(uids.instance))
      throw new PacsError('PACS_REJECTED', 'The PACS did not store the report', { failures: failed.length });
    ctx.audit.write(ctx.em, {
      action: AuditAction.CREATE,
      entityType: 'DicomExport',
      entityId: prediction.id,
      patientId: patient.id,
    });
    await ctx.em.flush();
    return {
      predictionId: prediction.id,
      studyInstanceUid: study.studyInstanceUid,
      seriesInstanceUid: uids.series,
      sopInstanceUid: uids.instance,
      sopClassUid: COMPREHENSIVE_SR_SOP_CLASS,
    };
  }

  /** The FHIR R4 DiagnosticReport of a prediction, alone or as a searchset Bundle with what it references. */
  async fhirReport(
    ctx: RequestContext,
    predictionId: string,
    baseUrl: string,
  ): Promise<{ report: FhirResource; bundle: FhirResource }> {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const { prediction, images } = await this.load(ctx, predictionId);
    const study = prediction.study;
    const patient = study.patient;
    ctx.audit.read('Prediction', prediction.id, patient.id);
    ctx.audit.read('Patient', patient.id, patient.id);
    const truth = await truthForPrediction(ctx.em, prediction);
    const { report, included } = fhirReportResources({
      predictionId: prediction.id,
      issued: prediction.createdAt,
      patient: fhirPatientOf(patient),
      study: fhirStudyOf(study, images),
      result: this.resultOf(prediction),
      identifierSystem: IDENTIFIER_SYSTEM,
      review: await this.reviewOf(ctx, truth),
    });
    return { report, bundle: fhirBundle(baseUrl, report, included) };
  }

  /**
   * One FHIR resource at the URL the Bundle gives it: `Observation/{predictionId}-{n}` (AI) or
   * `-r{n}` (the radiologist's read), `Patient/{id}`, `ImagingStudy/{id}`; NOT_FOUND otherwise.
   */
  async fhirResource(ctx: RequestContext, type: string, id: string): Promise<FhirResource> {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    if (type === 'Observation') {
      const predictionId = id.slice(0, 36);
      if (!isUuid(predictionId) || !/^-r?\d{1,3}$/.test(id.slice(36)))
        throw NotFoundError.of('Observation', id);
      const { bundle } = await this.fhirReport(ctx, predictionId, '');
      const found = (bundle.entry as { resource: FhirResource }[])
        .map((e) => e.resource)
        .find((r) => r.resourceType === 'Observation' && r.id === id);
      if (!found) throw NotFoundError.of('Observation', id);
      return found;
    }
    if (type === 'Patient') {
      const patient = isUuid(id) ? await ctx.em.getRepository(Patient).findOne({ id }) : null;
      if (!patient) throw NotFoundError.of('Patient', id);
      ctx.audit.read('Patient', patient.id, patient.id);
      return fhirPatient(fhirPatientOf(patient), IDENTIFIER_SYSTEM);
    }
    if (type === 'ImagingStudy') {
      const study = isUuid(id) ? await ctx.em.getRepository(Study).findOne({ id }) : null;
      if (!study) throw NotFoundError.of('ImagingStudy', id);
      const images = await ctx.em.getRepository(Image).findOfStudy(study.id);
      ctx.audit.read('Study', study.id, study.patient.id);
      return fhirImagingStudy(fhirStudyOf(study, images), study.patient.id, IDENTIFIER_SYSTEM);
    }
    throw NotFoundError.of('FhirResource', id);
  }

  /** The radiologist's read as the report states it (who signed it, by display name). */
  private async reviewOf(
    ctx: RequestContext,
    truth: RadiologistTruth | null,
  ): Promise<RadiologistReview | null> {
    if (!truth) return null;
    const user = truth.reviewedById
      ? await ctx.em.getRepository(User).findOne({ id: truth.reviewedById })
      : null;
    return {
      kind:
        truth.source === ReviewSource.CORRECTION
          ? 'CORRECTION'
          : truth.read?.status === StudyStatus.AMENDED
            ? 'AMENDED'
            : 'FINAL',
      findings: truth.findings,
      label: truth.label,
      conclusion: truth.read?.conclusion ?? null,
      radiologist: user?.displayName ?? null,
      at: truth.reviewedAt,
    };
  }

  private async load(ctx: RequestContext, predictionId: string) {
    const prediction = isUuid(predictionId)
      ? await ctx.em.getRepository(Prediction).findForReport(predictionId)
      : null;
    if (!prediction) throw NotFoundError.of('Prediction', predictionId);
    const images = await ctx.em.getRepository(Image).findOfStudy(prediction.study.id);
    return { prediction, images };
  }

  private resultOf(p: Prediction): AiResult {
    const task = p.modelVersion?.task.toLowerCase() ?? p.study.bodyPart.toLowerCase();
    return {
      gateVerdict: p.gateVerdict,
      label: p.label ?? null,
      probabilities: p.probabilities,
      findings: p.findings,
      modelName: `care-companion-${task}`,
      modelVersion: p.modelVersion?.version ?? 'unknown',
      warning: p.warning,
      explanation: p.explanation ?? null,
    };
  }
}

const IDENTIFIER_SYSTEM = 'urn:care-companion';

function fhirPatientOf(patient: Patient): FhirReportInput['patient'] {
  return {
    id: patient.id,
    mrn: patient.mrn,
    givenName: patient.givenName,
    familyName: patient.familyName,
    birthDate: patient.birthDate ?? null,
    sex: patient.sex,
  };
}

/** The study as FHIR states it: UIDs, the RIS accession (not the DICOM- stand-in), DICOM series. */
function fhirStudyOf(study: Study, images: Image[]): FhirReportInput['study'] {
  const series = new Map<string, FhirReportInput['study']['series'][number]>();
  for (const image of images) {
    const a = image.dicomAttributes ?? {};
    const [uid, sop, sopClass] = [a.seriesInstanceUid, a.sopInstanceUid, a.sopClassUid];
    if (typeof uid !== 'string' || typeof sop !== 'string' || typeof sopClass !== 'string') continue;
    const entry = series.get(uid) ?? {
      uid,
      modality: typeof a.modality === 'string' && a.modality ? a.modality : 'CR',
      instances: [],
    };
    entry.instances.push({ uid: sop, sopClassUid: sopClass });
    series.set(uid, entry);
  }
  return {
    id: study.id,
    studyInstanceUid: study.studyInstanceUid ?? null,
    accessionNumber: study.accessionNumber.startsWith('DICOM-') ? null : study.accessionNumber,
    bodyPart: study.bodyPart,
    series: [...series.values()],
  };
}

function sequenceUids(response: DicomJson, tag: string): string[] {
  const items = (response[tag]?.Value ?? []) as DicomJson[];
  return items.map((i) => jsonString(i, '00081155')).filter(Boolean);
}

/** SOP Instance UIDs in the Failed SOP Sequence of a STOW-RS response. */
function failedUids(response: DicomJson): string[] {
  return sequenceUids(response, '00081198');
}

/** SOP Instance UIDs in the Referenced SOP Sequence of a STOW-RS response. */
function storedUids(response: DicomJson): string[] {
  return sequenceUids(response, '00081199');
}
