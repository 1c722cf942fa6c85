import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { NotFoundError } from '../../errors';
import { assertIds, isUuid } from '../shared/filters';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { Prediction } from './prediction.entity';
import type { PredictionFilter } from './prediction.repository';

/** Reads of AI readings: permission checks, filters and audited reads. */
export class PredictionService {
  constructor(private readonly pageMax: number) {}

  /**
   * Asserts the caller may read the clinical content of AI readings (outcome, findings, probabilities,
   * heatmap): a role that reads the record without it gets FORBIDDEN on those fields alone.
   */
  assertClinicalRead(ctx: RequestContext): void {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
  }

  /**
   * Predictions, filterable by study, patient, model version, label, gate verdict and time. The record
   * needs READ_PATIENT_DATA; filtering by what the AI said (label) needs READ_PREDICTIONS.
   */
  async predictions(ctx: RequestContext, f: PredictionFilter, page: PageArgs): Promise<Page<Prediction>> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    if (f.label) assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    assertIds({ studyId: f.studyId, patientId: f.patientId, modelVersionId: f.modelVersionId });
    const result = await ctx.em.getRepository(Prediction).findPage(f, page, this.pageMax);
    const studies = await Promise.all(result.items.map((p) => ctx.loaders.studyById.load(p.study.id)));
    result.items.forEach((p, i) => ctx.audit.read('Prediction', p.id, studies[i]?.patient.id ?? null));
    return result;
  }

  /** One prediction (audited); its clinical fields need READ_PREDICTIONS besides. */
  async prediction(ctx: RequestContext, id: string): Promise<Prediction> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const p = isUuid(id) ? await ctx.em.getRepository(Prediction).findWithStudy(id) : null;
    if (!p) throw NotFoundError.of('Prediction', id);
    ctx.audit.read('Prediction', p.id, p.study.patient.id);
    return p;
  }

  /** Predictions of one study, batched (audited). */
  async predictionsForStudy(ctx: RequestContext, studyId: string, patientId: string): Promise<Prediction[]> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const rows = await ctx.loaders.predictionsByStudyId.load(studyId);
    for (const p of rows) ctx.audit.read('Prediction', p.id, patientId);
    return rows;
  }
}
