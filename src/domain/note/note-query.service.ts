import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import type { NoteStatus } from '../enums';
import { assertIds } from '../shared/filters';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { ClinicalNote } from './clinical-note.entity';

/** Lists of clinical notes (they are drafted and approved by `NoteService`). */
export class NoteQueryService {
  constructor(private readonly pageMax: number) {}

  /**
   * Clinical notes (audited reads). Integrators see released notes only: approved, and approved then
   * invalidated by a later read (status INVALIDATED, with the reason), so they can retract them.
   */
  async notes(
    ctx: RequestContext,
    f: { predictionId?: string | null; status?: NoteStatus | null },
    page: PageArgs,
  ): Promise<Page<ClinicalNote>> {
    const principal = assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    assertIds({ predictionId: f.predictionId });
    const releasedOnly = principal.role === 'INTEGRATOR';
    const result = await ctx.em
      .getRepository(ClinicalNote)
      .findPage({ ...f, releasedOnly }, page, this.pageMax);
    // A note is about one patient's study: its read is audited like the prediction's (two batched loads).
    const studies = await Promise.all(
      result.items.map((n) => ctx.loaders.studyById.load(n.prediction.study.id)),
    );
    result.items.forEach((n, i) => ctx.audit.read('ClinicalNote', n.id, studies[i]?.patient.id ?? null));
    return result;
  }
}
