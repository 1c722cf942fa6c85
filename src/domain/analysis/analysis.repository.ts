import type { EntityManager } from '@mikro-orm/postgresql';
import { Image } from '../image/image.entity';
import { PreparedRead } from '../shared/prepared-read';
import { ModelVersion } from '../model-version/model-version.entity';
import { Prediction } from '../prediction/prediction.entity';
import { SiteOperatingPoint } from '../site/site-operating-point.entity';
import { Study } from '../study/study.entity';

/**
 * Everything an analysis reads before the model runs, from one statement: the study, its images, its
 * last served reading, the task's PRODUCTION and CANARY versions, the site's rollout gates that have not
 * passed (with the version each holds the site on) and the operating points in force at the site.
 */
export interface AnalysisInputs {
  study: Study;
  /** Oldest first. */
  images: Image[];
  /** The newest reading that was not a shadow read, or null. */
  latest: LatestReading | null;
  /** PRODUCTION and CANARY versions of the study's task, newest promotion first. */
  versions: ModelVersion[];
  /** The version the study's site keeps instead of the candidate (by candidate id): gates not passed. */
  heldBy: Map<string, ModelVersion>;
  /** Operating points in force at the study's site, by model version id. */
  operatingPoints: Map<string, SiteOperatingPoint>;
}

type Row = Record<string, unknown>;

/**
 * A study's newest reading as read: its id and inputs, and the entity itself only when asked for (mapped
 * into the unit of work then). A re-read links to it by reference and never needs more, so a reading
 * with its CAM and probabilities is neither hydrated nor tracked by the flush on that path.
 */
export interface LatestReading {
  id: string;
  inputs: Prediction['inputs'];
  entity(): Prediction;
}

/**
 * One round trip: each part is a sub-select aggregated to JSON, and the process maps plain rows into
 * the unit of work (`em.map`), with no query building per part. Prepared, so it is planned once per
 * connection, not on every analysis.
 */
const ANALYSIS_INPUTS = new PreparedRead(
  'analysis_inputs',
  `
with s as (select * from study where id = ?),
t as (select case when body_part = 'CHEST' then 'CHEST' else 'WRIST' end as task from s)
select
  row_to_json(s) as study,
  (select coalesce(json_agg(i order by i.created_at), '[]'::json) from image i where i.study_id = s.id) as images,
  (select row_to_json(p) from prediction p where p.study_id = s.id and p.route <> 'SHADOW'
     order by p.created_at desc, p.id desc limit 1) as latest,
  (select coalesce(json_agg(v order by v.promoted_at desc, v.created_at desc), '[]'::json)
     from model_version v where v.task = (select task from t) and v.stage in ('PRODUCTION', 'CANARY')) as versions,
  (select coalesce(json_agg(json_build_object('candidate', g.candidate_id, 'fallback', f)), '[]'::json)
     from site_rollout_gate g join model_version f on f.id = g.fallback_id
     where g.site_id = s.site_id and g.status <> 'PASSED') as held,
  (select coalesce(json_agg(o), '[]'::json) from site_operating_point o
     where o.site_id = s.site_id and o.superseded_at is null) as points
from s`,
);

/** Reads an analysis's inputs in one statement (in `em`'s transaction, if any); null when the study does not exist. */
export async function readAnalysisInputs(em: EntityManager, studyId: string): Promise<AnalysisInputs | null> {
  const [row] = await ANALYSIS_INPUTS.rows<Row>(em, [studyId]);
  if (!row) return null;
  const versions = (row.versions as Row[]).map((v) => em.map(ModelVersion, v));
  const heldBy = new Map(
    (row.held as { candidate: string; fallback: Row }[]).map((h) => [
      h.candidate,
      em.map(ModelVersion, h.fallback),
    ]),
  );
  const operatingPoints = new Map(
    (row.points as Row[]).map((o) => [o.model_version_id as string, em.map(SiteOperatingPoint, o)]),
  );
  return {
    study: em.map(Study, row.study as Row),
    images: (row.images as Row[]).map((i) => em.map(Image, i)),
    latest: row.latest ? latestReading(em, row.latest as Row) : null,
    versions,
    heldBy,
    operatingPoints,
  };
}

function latestReading(em: EntityManager, row: Row): LatestReading {
  let entity: Prediction | null = null;
  return {
    id: row.id as string,
    inputs: (row.inputs as Prediction['inputs'] | null) ?? [],
    entity: () => (entity ??= em.map(Prediction, row)),
  };
}
