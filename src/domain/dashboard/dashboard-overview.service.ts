import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { Correction } from '../correction/correction.entity';
import { GateVerdict } from '../enums';
import { ModelVersion } from '../model-version/model-version.entity';
import { Prediction } from '../prediction/prediction.entity';
import type { RequestContext } from '../shared/request-context';

/** Throughput and latency of one time bucket. */
export interface ThroughputBucket {
  start: Date;
  predictions: number;
  refused: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** A recent prediction without patient data. */
export interface MonitoredPrediction {
  id: string;
  createdAt: Date;
  model: string | null;
  route: string;
  gateVerdict: GateVerdict;
  label: string | null;
  totalMs: number | null;
}

/** The dashboard's non-drift figures, read from stored predictions (no PHI). */
export interface DashboardOverview {
  modelVersions: ModelVersion[];
  throughput: ThroughputBucket[];
  bucketMinutes: number;
  recentPredictions: MonitoredPrediction[];
  corrections: number;
}

/**
 * Read side of the monitoring dashboard's non-drift figures: model versions, throughput and latency,
 * recent predictions, the correction count (GraphQL `monitoringOverview`). Drift checks and alerts are
 * the drift feature's (`domain/drift/`).
 */
export class DashboardOverviewService {
  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Overview over the last `minutes` (1..1440), in about 30 buckets. */
  async overview(ctx: RequestContext, minutes: number, recent: number): Promise<DashboardOverview> {
    assertPermission(ctx.principal, Permission.READ_MONITORING);
    const span = Math.min(Math.max(Math.round(minutes), 1), 1440);
    const bucketMinutes = Math.max(1, Math.ceil(span / 30));
    const since = new Date(this.now().getTime() - span * 60_000);
    const em: EntityManager = ctx.em;
    const seconds = bucketMinutes * 60;
    const predictions = em.getRepository(Prediction);
    const rows = await predictions.throughputSince(since, seconds);
    const latest = await predictions.findLatestWithModel(Math.min(Math.max(recent, 1), 100));
    return {
      modelVersions: await em.getRepository(ModelVersion).findAllByTaskAndVersion(),
      throughput: rows.map((r) => ({
        start: new Date(r.start),
        predictions: r.predictions,
        refused: r.refused,
        p50Ms: r.p50 === null ? null : Number(r.p50),
        p95Ms: r.p95 === null ? null : Number(r.p95),
      })),
      bucketMinutes,
      recentPredictions: latest.map((p) => ({
        id: p.id,
        createdAt: p.createdAt,
        model: p.modelVersion ? `${p.modelVersion.task.toLowerCase()}/${p.modelVersion.version}` : null,
        route: p.route,
        gateVerdict: p.gateVerdict,
        label: p.label ?? null,
        totalMs: typeof p.timings.totalMs === 'number' ? p.timings.totalMs : null,
      })),
      corrections: await em.getRepository(Correction).countSince(since),
    };
  }
}
