import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../../auth/principal';
import { AuditCollector } from '../audit/audit.service';
import type { Correction } from '../correction/correction.entity';
import { Image } from '../image/image.entity';
import { Patient } from '../patient/patient.entity';
import { Prediction } from '../prediction/prediction.entity';
import { latestCorrections, readsInForce } from '../read/radiologist-review';
import { SiteOperatingPoint } from '../site/site-operating-point.entity';
import type { StudyRead } from '../read/study-read.entity';
import { Study } from '../study/study.entity';

/** Per-request batch loaders: relations resolve in one query per kind, never one per row. */
export interface Loaders {
  patientById: DataLoader<string, Patient | null>;
  studyById: DataLoader<string, Study | null>;
  imagesByStudyId: DataLoader<string, Image[]>;
  predictionsByStudyId: DataLoader<string, Prediction[]>;
  /** The radiologist's read in force of a study (highest version), or null. */
  readByStudyId: DataLoader<string, StudyRead | null>;
  /** The latest correction of a prediction, or null. */
  correctionByPredictionId: DataLoader<string, Correction | null>;
  /** A site operating point by id (the one a prediction used). */
  siteOperatingPointById: DataLoader<string, SiteOperatingPoint | null>;
}

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

function byId<T extends { id: string }>(rows: T[], ids: readonly string[]): (T | null)[] {
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id) ?? null);
}

function groupBy<T>(rows: T[], ids: readonly string[], key: (row: T) => string): T[][] {
  const map = new Map<string, T[]>(ids.map((id) => [id, []]));
  for (const row of rows) map.get(key(row))?.push(row);
  return ids.map((id) => map.get(id) ?? []);
}

/** Creates the loaders for one request over its forked EntityManager. */
export function createLoaders(em: EntityManager): Loaders {
  return {
    patientById: new DataLoader(async (ids) => byId(await em.find(Patient, { id: { $in: [...ids] } }), ids)),
    studyById: new DataLoader(async (ids) => byId(await em.find(Study, { id: { $in: [...ids] } }), ids)),
    imagesByStudyId: new DataLoader(async (ids) =>
      groupBy(
        await em.find(Image, { study: { $in: [...ids] } }, { orderBy: { createdAt: 'asc', id: 'asc' } }),
        ids,
        (i) => i.study.id,
      ),
    ),
    predictionsByStudyId: new DataLoader(async (ids) =>
      groupBy(
        await em.find(
          Prediction,
          { study: { $in: [...ids] } },
          { orderBy: { createdAt: 'desc', id: 'desc' } },
        ),
        ids,
        (p) => p.study.id,
      ),
    ),
    readByStudyId: new DataLoader(async (ids) => {
      const reads = await readsInForce(em, ids);
      return ids.map((id) => reads.get(id) ?? null);
    }),
    correctionByPredictionId: new DataLoader(async (ids) => {
      const corrections = await latestCorrections(em, ids);
      return ids.map((id) => corrections.get(id) ?? null);
    }),
    siteOperatingPointById: new DataLoader(async (ids) =>
      byId(await em.find(SiteOperatingPoint, { id: { $in: [...ids] } }), ids),
    ),
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
