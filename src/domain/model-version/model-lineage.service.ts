import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { NotFoundError } from '../../errors';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import type { TrainingRun } from '../training-run/training-run.entity';
import type { User } from '../user/user.entity';
import { ModelStageChange } from './model-stage-change.entity';
import { ModelVersion } from './model-version.entity';

/** Parent chains longer than this are cut (a guard against a cycle written outside the API). */
const MAX_ANCESTORS = 64;

/** Where a model version came from and how it reached its stage. */
export interface ModelLineage {
  version: ModelVersion;
  /** Parent, grandparent, ... (nearest first). */
  ancestors: ModelVersion[];
  trainingRun: TrainingRun | null;
  promotedBy: User | null;
  /** Stage history, oldest first. */
  stageChanges: ModelStageChange[];
}

/** Read side of model lineage (admins, radiologists). */
export class ModelLineageService {
  /** One version of the registry. */
  async version(ctx: RequestContext, id: string): Promise<ModelVersion> {
    assertPermission(ctx.principal, Permission.READ_MODELS);
    const version = isUuid(id) ? await ctx.em.getRepository(ModelVersion).findOne({ id }) : null;
    if (!version) throw NotFoundError.of('ModelVersion', id);
    return version;
  }

  /** The lineage of one version: ancestors, training run, dataset, gate, promotions. */
  async lineage(ctx: RequestContext, id: string): Promise<ModelLineage> {
    assertPermission(ctx.principal, Permission.READ_MODELS);
    const version = isUuid(id) ? await ctx.em.getRepository(ModelVersion).findWithLineage(id) : null;
    if (!version) throw NotFoundError.of('ModelVersion', id);
    const ancestors: ModelVersion[] = [];
    const seen = new Set([version.id]);
    let parentId = version.parent?.id ?? null;
    while (parentId && !seen.has(parentId) && ancestors.length < MAX_ANCESTORS) {
      seen.add(parentId);
      const parent = await ctx.em.getRepository(ModelVersion).findOne({ id: parentId });
      if (!parent) break;
      ancestors.push(parent);
      parentId = parent.parent?.id ?? null;
    }
    const stageChanges = await ctx.em.getRepository(ModelStageChange).findOfVersion(version);
    return {
      version,
      ancestors,
      trainingRun: version.trainingRun ?? null,
      promotedBy: version.promotedBy ?? null,
      stageChanges,
    };
  }
}
