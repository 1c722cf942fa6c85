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
export interface MonitoringOverview {
  modelVersions: ModelVersion[];
  throughput: ThroughputBucket[];
  bucketMinutes: number;
  recentPredictions: MonitoredPrediction[];
  corrections: number;
}

/** Bucketed SQL over the prediction table; shadow reads are left out (they double-count studies). */
const THROUGHPUT_SQL = `
select to_timestamp(floor(extract(epoch from created_at) / ?) * ?) as start,
       count(*)::int as predictions,
       (count(*) filter (where gate_verdict <> 'ACCEPTED'))::int as refused,
       percentile_cont(0.5) within group (order by (timings->>'totalMs')::float) as p50,
       percentile_cont(0.95) within group (order by (timings->>'totalMs')::float) as p95
  from prediction
 where created_at > ? and route <> 'SHADOW'
 group by 1 order by 1`;

/** Read side of the monitoring dashboard: model versions, throughput/latency, recent predictions. */
export class MonitoringService {
  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Overview over the last `minutes` (1..1440), in about 30 buckets. */
  async overview(ctx: RequestContext, minutes: number, recent: number): Promise<MonitoringOverview> {
    assertPermission(ctx.principal, Permission.READ_MONITORING);
    const span = Math.min(Math.max(Math.round(minutes), 1), 1440);
    const bucketMinutes = Math.max(1, Math.ceil(span / 30));
    const since = new Date(this.now().getTime() - span * 60_000);
    const em: EntityManager = ctx.em;
    const seconds = bucketMinutes * 60;
    const rows = (await em.getConnection().execute(THROUGHPUT_SQL, [seconds, seconds, since])) as {
      start: Date | string;
      predictions: number;
      refused: number;
      p50: number | null;
      p95: number | null;
    }[];
    const predictions = await em.find(
      Prediction,
      {},
      {
        orderBy: { createdAt: 'desc', id: 'desc' },
        limit: Math.min(Math.max(recent, 1), 100),
        populate: ['modelVersion'],
      },
    );
    return {
      modelVersions: await em.find(ModelVersion, {}, { orderBy: { task: 'asc', version: 'asc' } }),
      throughput: rows.map((r) => ({
        start: new Date(r.start),
        predictions: r.predictions,
        refused: r.refused,
        p50Ms: r.p50 === null ? null : Number(r.p50),
        p95Ms: r.p95 === null ? null : Number(r.p95),
      })),
      bucketMinutes,
      recentPredictions: predictions.map((p) => ({
        id: p.id,
        createdAt: p.createdAt,
        model: p.modelVersion ? `${p.modelVersion.task.toLowerCase()}/${p.modelVersion.version}` : null,
        route: p.route,
        gateVerdict: p.gateVerdict,
        label: p.label ?? null,
        totalMs: typeof p.timings.totalMs === 'number' ? p.timings.totalMs : null,
      })),
      corrections: await em.count(Correction, { createdAt: { $gt: since } }),
    };
  }
}
