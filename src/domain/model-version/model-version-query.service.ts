import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import type { ModelStage, ModelTask } from '../enums';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { ModelVersion } from './model-version.entity';

/** Lists of the model registry. */
export class ModelVersionQueryService {
  constructor(private readonly pageMax: number) {}

  /** The model registry. */
  async modelVersions(
    ctx: RequestContext,
    f: { task?: ModelTask | null; stage?: ModelStage | null },
    page: PageArgs,
  ): Promise<Page<ModelVersion>> {
    assertPermission(ctx.principal, Permission.READ_MODELS);
    return ctx.em.getRepository(ModelVersion).findPage(f, page, this.pageMax);
  }
}
