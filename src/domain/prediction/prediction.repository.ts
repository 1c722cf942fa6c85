import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { GateVerdict } from '../enums';
import { compact, type DateRange, rangeCondition } from '../shared/filters';
import { type Page, type PageArgs, paginate } from '../shared/pagination';
import type { Prediction } from './prediction.entity';

/** What a list of predictions may be narrowed by (ids already checked). */
export interface PredictionFilter {
  studyId?: string | null;
  patientId?: string | null;
  modelVersionId?: string | null;
  label?: string | null;
  gateVerdict?: GateVerdict | null;
  createdAt?: DateRange;
}

/** Reads of AI readings. */
export class PredictionRepository extends EntityRepository<Prediction> {
  /** A page of predictions, newest first; a patient filter applies when no study is named. */
  findPage(f: PredictionFilter, page: PageArgs, pageMax: number): Promise<Page<Prediction>> {
    const where = compact({
      study: f.studyId ?? (f.patientId ? { patient: f.patientId } : undefined),
      modelVersion: f.modelVersionId,
      label: f.label,
      gateVerdict: f.gateVerdict,
      createdAt: rangeCondition(f.createdAt),
    }) as FilterQuery<Prediction>;
    return paginate(this.em, this.entityName, where, page, pageMax);
  }

  /** One prediction with its study, or null. */
  findWithStudy(id: string): Promise<Prediction | null> {
    return this.findOne({ id }, { populate: ['study'] });
  }

  /** One prediction with its study and the model version that made it, or null. */
  findWithStudyAndModel(id: string): Promise<Prediction | null> {
    return this.findOne({ id }, { populate: ['study', 'modelVersion'] });
  }

  /** The predictions of several studies, newest first (one loader batch). */
  findOfStudies(studyIds: readonly string[]): Promise<Prediction[]> {
    return this.find({ study: { $in: [...studyIds] } }, { orderBy: { createdAt: 'desc', id: 'desc' } });
  }
}
