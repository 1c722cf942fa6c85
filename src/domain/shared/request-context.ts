import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from '../../auth/principal';
import { AuditCollector } from '../audit/audit.service';
import { Image } from '../image/image.entity';
import { Patient } from '../patient/patient.entity';
import { Prediction } from '../prediction/prediction.entity';
import { Study } from '../study/study.entity';

/** Per-request batch loaders: relations resolve in one query per kind, never one per row. */
export interface Loaders {
  patientById: DataLoader<string, Patient | null>;
  studyById: DataLoader<string, Study | null>;
  imagesByStudyId: DataLoader<string, Image[]>;
  predictionsByStudyId: DataLoader<string, Prediction[]>;
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
  };
}

/** Builds a request context with a fresh unit of work. */
export function createRequestContext(
  rootEm: EntityManager,
  principal: Principal | null,
  requestId: string,
  signal?: AbortSignal,
): RequestContext {
  const em = rootEm.fork({ clear: true, useContext: false });
  return {
    requestId,
    principal,
    em,
    audit: new AuditCollector(principal, requestId),
    loaders: createLoaders(em),
    signal,
  };
}
