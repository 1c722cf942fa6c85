import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { InvalidStateError, NotFoundError, PacsError } from '../../errors';
import { buildAiReportSr, COMPREHENSIVE_SR_SOP_CLASS, SrEvidence } from '../../interop/ai-report.sr';
import { deriveUid } from '../../interop/dicom-uid';
import { jsonString } from '../../interop/dicom-json';
import type { DicomJson } from '../../interop/dicom-json';
import type { DicomWebClient } from '../../interop/dicomweb.client';
import { fhirBundle, fhirReportResources, FhirResource } from '../../interop/fhir-report';
import { AuditAction } from '../enums';
import { Image } from '../image/image.entity';
import { Prediction } from '../prediction/prediction.entity';
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
    const uids = {
      series: deriveUid(this.options.uidRoot, `sr-series:${prediction.id}`),
      instance: deriveUid(this.options.uidRoot, `sr-instance:${prediction.id}`),
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
    const { prediction } = await this.load(ctx, predictionId);
    const study = prediction.study;
    const patient = study.patient;
    ctx.audit.read('Prediction', prediction.id, patient.id);
    ctx.audit.read('Patient', patient.id, patient.id);
    const { report, included } = fhirReportResources({
      predictionId: prediction.id,
      issued: prediction.createdAt,
      patient: {
        id: patient.id,
        mrn: patient.mrn,
        givenName: patient.givenName,
        familyName: patient.familyName,
        birthDate: patient.birthDate ?? null,
        sex: patient.sex,
      },
      study: {
        id: study.id,
        studyInstanceUid: study.studyInstanceUid ?? null,
        accessionNumber: study.accessionNumber,
        bodyPart: study.bodyPart,
      },
      result: this.resultOf(prediction),
      identifierSystem: 'urn:care-companion',
    });
    return { report, bundle: fhirBundle(baseUrl, report, included) };
  }

  private async load(ctx: RequestContext, predictionId: string) {
    const prediction = isUuid(predictionId)
      ? await ctx.em.findOne(
          Prediction,
          { id: predictionId },
          { populate: ['study', 'study.patient', 'modelVersion'] },
        )
      : null;
    if (!prediction) throw NotFoundError.of('Prediction', predictionId);
    const images = await ctx.em.find(Image, { study: prediction.study }, { orderBy: { createdAt: 'asc' } });
    return { prediction, images };
  }

  private resultOf(p: Prediction) {
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

function sequenceUids(response: DicomJson, tag: string): string[] {
  const items = (response[tag]?.Value ?? []) as DicomJson[];
  return items.map((i) => jsonString(i, '00081155')).filter(Boolean);
}

/** SOP Instance UIDs in the Failed SOP Sequence of a STOW-RS response. */
export function failedUids(response: DicomJson): string[] {
  return sequenceUids(response, '00081198');
}

/** SOP Instance UIDs in the Referenced SOP Sequence of a STOW-RS response. */
export function storedUids(response: DicomJson): string[] {
  return sequenceUids(response, '00081199');
}
