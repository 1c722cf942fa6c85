import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../../auth/principal';
import { AuditCollector } from '../audit/audit.service';
import { createCorrectionLoaders, CorrectionLoaders } from '../correction/correction.loaders';
import { createImageLoaders, ImageLoaders } from '../image/image.loaders';
import { createPatientLoaders, PatientLoaders } from '../patient/patient.loaders';
import { createPredictionLoaders, PredictionLoaders } from '../prediction/prediction.loaders';
import { createReadLoaders, ReadLoaders } from '../read/read.loaders';
import { createSiteLoaders, SiteLoaders } from '../site/site.loaders';
import { createStudyLoaders, StudyLoaders } from '../study/study.loaders';

/**
 * Per-request batch loaders: relations resolve in one query per kind, never one per row. Each feature
 * owns its loaders (`<feature>.loaders.ts`); a request holds them all.
 */
export type Loaders = PatientLoaders &
  StudyLoaders &
  ImageLoaders &
  PredictionLoaders &
  ReadLoaders &
  CorrectionLoaders &
  SiteLoaders;

/** Everything one GraphQL operation or HTTP request needs: who, which unit of work, loaders, audit. */
export interface RequestContext {
  requestId: string;
  principal: Principal | null;
  em: EntityManager;
  audit: AuditCollector;
  loaders: Loaders;
  /** Aborted when the client goes away before the answer is sent (queued inference is then dropped). */
  signal?: AbortSignal;
}

/** Creates the loaders for one request over its forked EntityManager. */
function createLoaders(em: EntityManager): Loaders {
  return {
    ...createPatientLoaders(em),
    ...createStudyLoaders(em),
    ...createImageLoaders(em),
    ...createPredictionLoaders(em),
    ...createReadLoaders(em),
    ...createCorrectionLoaders(em),
    ...createSiteLoaders(em),
  };
}

/**
 * A request context whose unit of work (the EntityManager fork) and loaders are made on first use, so
 * a request that never reads the database (`{ __typename }`, a refused argument) does not pay for
 * them, and one that does pays for them inside the service call. The getters live on the prototype
 * and the state in plain fields, so a copy made with `Object.assign(Object.create(proto), ctx)` (what
 * Apollo Server does with every context) stays lazy and makes its own fork when it first needs one.
 */
class LazyRequestContext implements RequestContext {
  readonly audit: AuditCollector;
  private forked: EntityManager | undefined = undefined;
  private batchLoaders: Loaders | undefined = undefined;

  constructor(
    private readonly rootEm: EntityManager,
    readonly principal: Principal | null,
    readonly requestId: string,
    readonly signal?: AbortSignal,
  ) {
    this.audit = new AuditCollector(principal, requestId);
  }

  get em(): EntityManager {
    return (this.forked ??= this.rootEm.fork({ clear: true, useContext: false }));
  }

  get loaders(): Loaders {
    return (this.batchLoaders ??= createLoaders(this.em));
  }
}

/** Builds a request context with a fresh unit of work (made on first use). */
export function createRequestContext(
  rootEm: EntityManager,
  principal: Principal | null,
  requestId: string,
  signal?: AbortSignal,
): RequestContext {
  return new LazyRequestContext(rootEm, principal, requestId, signal);
}
