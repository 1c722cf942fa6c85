import { EntityRepository } from '@mikro-orm/postgresql';
import type { ModelTask } from '../enums';
import type { SiteValidationItem } from './site-validation-item.entity';

/** One row of a validation set's count: by label and source, with their subtotals (rollup). */
export interface ValidationSetCountRow {
  label: string | null;
  source: string | null;
  n: number;
  patients: number;
}

/** Reads of sites' validation sets. */
export class SiteValidationItemRepository extends EntityRepository<SiteValidationItem> {
  /** The items of a site for these studies. */
  findOfStudies(siteId: string, studyIds: string[]): Promise<SiteValidationItem[]> {
    return this.find({ site: siteId, study: { $in: studyIds } });
  }

  /** The item of a site for one study, or null. */
  findOfStudy(siteId: string, studyId: string): Promise<SiteValidationItem | null> {
    return this.findOne({ site: siteId, study: studyId });
  }

  /** A site's items for one task, with their studies, oldest first (what an evaluation reads). */
  findForEvaluation(siteId: string, task: ModelTask): Promise<SiteValidationItem[]> {
    return this.find(
      { site: siteId, task },
      { populate: ['study'], orderBy: { createdAt: 'asc', id: 'asc' } },
    );
  }

  /** A site's items for one task counted by label and source (and distinct patients), with rollup subtotals. */
  countBySiteAndTask(siteId: string, task: ModelTask): Promise<ValidationSetCountRow[]> {
    return this.em.getConnection().execute(
      `select i.label, i.source, count(*)::int as n, count(distinct s.patient_id)::int as patients
           from site_validation_item i join study s on s.id = i.study_id
          where i.site_id = ? and i.task = ? group by rollup (i.label, i.source)`,
      [siteId, task],
    );
  }

  /** Every site's items for one task counted by label (in the unit of work's transaction, if any). */
  countLabelsBySite(task: ModelTask): Promise<{ site_id: string; label: string; n: number }[]> {
    return this.em
      .getConnection()
      .execute(
        'select site_id, label, count(*)::int as n from site_validation_item where task = ? group by site_id, label',
        [task],
        'all',
        this.em.getTransactionContext(),
      );
  }
}
