import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { assertIds } from '../shared/filters';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { Correction } from './correction.entity';

/** Lists of radiologists' corrections (they are written by `CorrectionService`). */
export class CorrectionQueryService {
  constructor(private readonly pageMax: number) {}

  /** Corrections, optionally of one prediction. */
  async corrections(
    ctx: RequestContext,
    f: { predictionId?: string | null },
    page: PageArgs,
  ): Promise<Page<Correction>> {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    assertIds({ predictionId: f.predictionId });
    return ctx.em.getRepository(Correction).findPage(f, page, this.pageMax);
  }
}
