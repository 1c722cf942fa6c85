import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { compareVersions, listVersions } from '../../inference/model-repository';
import { loadModelManifest, ModelManifest } from '../../inference/model-manifest';
import type { Logger } from '../../logging/logger';
import { ModelStage, ModelStageChangeKind, ModelTask, TrainingRunStatus } from '../enums';
import { AdvisoryLockKey, lockForTransaction } from '../shared/advisory-lock';
import { TrainingRun } from '../training-run/training-run.entity';
import type { ModelServing, ServingSource, ServingVersion } from './model-serving';
import { ModelStageChange } from './model-stage-change.entity';
import { ModelVersion } from './model-version.entity';

const TASKS: Record<string, ModelTask> = { chest: ModelTask.CHEST, wrist: ModelTask.WRIST };

/** Namespace of the transaction-scoped advisory locks that serialise registry writes per task. */
const REGISTRY_LOCK = 5_021_117;

/**
 * Takes the registry lock of a task until the surrounding transaction ends: concurrent promotions,
 * rollbacks and start-up syncs of one task run one after another, each seeing the previous one's result.
 */
export async function lockTaskRegistry(em: EntityManager, task: ModelTask): Promise<void> {
  await lockForTransaction(em, AdvisoryLockKey.namespaced(REGISTRY_LOCK, task));
}

/**
 * The registry as {@link ModelServing}'s source: the PRODUCTION and CANARY rows, read fresh each time,
 * plus the versions `held` names (sites held on their previous version by a rollout gate).
 */
export function registryServingSource(
  rootEm: EntityManager,
  held: (em: EntityManager) => Promise<ModelVersion[]> = async () => [],
): ServingSource {
  return {
    servingVersions: async () => {
      const em = rootEm.fork();
      const serving = await em.getRepository(ModelVersion).findServing();
      const ids = new Set(serving.map((v) => v.id));
      return [...serving, ...(await held(em)).filter((v) => !ids.has(v.id))];
    },
  };
}

/**
 * The metrics kept on the registry row: a summary of model.json's test metrics and, when the model
 * has one, its leave-one-source-out result (what a new hospital should expect).
 */
function metricsSummary(m: ModelManifest): Record<string, unknown> {
  return {
    aurocPerClass: m.metrics.aurocPerClass,
    atThresholds: m.metrics.atThresholds,
    temperature: m.temperature,
    gate: m.gate,
    ...(m.loso ? { loso: { pooled: m.loso.pooled ?? null, folds: losoFolds(m.loso.folds) } } : {}),
  };
}

/** Per held-out hospital: n, abnormal AUROC and the gate's refusals (the registry's short form). */
function losoFolds(folds: Record<string, Record<string, unknown>> = {}): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(folds).map(([name, f]) => [
      name,
      { n: f.n, aurocAbnormal: f.aurocAbnormal ?? null, gate: f.gate ?? null },
    ]),
  );
}

/**
 * False when model.json records a promotion gate against its parent that it failed (it may be
 * registered and tried, but never becomes PRODUCTION by default).
 */
function mayBecomeProduction(m: ModelManifest): boolean {
  return m.lineage?.promotionGate?.passed !== false;
}

/** The training run a model.json describes (for versions registered from the repository, not by the trainer). */
function trainingRunOf(task: ModelTask, version: string, m: ModelManifest): TrainingRun {
  const finishedAt = new Date(m.createdAt);
  return Object.assign(new TrainingRun(), {
    task,
    status: TrainingRunStatus.SUCCEEDED,
    parameters: {
      ...m.training.hyperparameters,
      epochs: m.training.epochs,
      seed: m.training.seed,
      params: m.training.params,
      torchVersion: m.training.torchVersion,
      source: 'model.json',
    },
    codeVersion: m.training.codeVersion,
    candidateVersion: version,
    manifestSha256: m.trainingData.manifestSha256,
    datasetCounts: m.trainingData.counts,
    metrics: m.metrics as Record<string, unknown>,
    startedAt: new Date(finishedAt.getTime() - m.training.seconds * 1000),
    finishedAt,
  });
}

/**
 * Keeps the registry and the engine in step with the model repository (`models/<task>/<version>/`):
 * registers versions found on disk (with the training run their model.json records), makes the newest
 * the PRODUCTION version of a task that has none, and has {@link ModelServing} load every PRODUCTION
 * and CANARY version. Safe when several processes start at once (per-task registry lock).
 */
export class ModelRegistryService {
  constructor(
    private readonly rootEm: EntityManager,
    private readonly serving: ModelServing,
    private readonly modelsDir: string,
    private readonly logger: Logger,
  ) {}

  /** Registers what is on disk and loads the serving versions; returns the loaded ones. */
  async syncRepository(): Promise<ServingVersion[]> {
    for (const [folder, task] of Object.entries(TASKS)) {
      const found: { version: string; dir: string; manifest: ModelManifest }[] = [];
      for (const version of (await listVersions(this.modelsDir, folder)).sort(compareVersions)) {
        const dir = join(this.modelsDir, folder, version);
        try {
          found.push({ version, dir, manifest: await loadModelManifest(dir) });
        } catch (error) {
          this.logger.warn(
            { dir, err: (error as Error).message },
            'skipping a model folder with an invalid model.json',
          );
        }
      }
      await this.rootEm.fork().transactional(async (em) => {
        await lockTaskRegistry(em, task);
        for (const { version, dir, manifest } of found) {
          if (await em.getRepository(ModelVersion).findByName(task, version)) continue;
          const parentVersion = manifest.lineage?.parentVersion;
          em.create(ModelVersion, {
            task,
            version,
            artifactPath: dir,
            manifestSha256: manifest.trainingData.manifestSha256,
            metrics: metricsSummary(manifest),
            stage: ModelStage.STAGING,
            trainingRun: trainingRunOf(task, version, manifest),
            parent: parentVersion
              ? await em.getRepository(ModelVersion).findByName(task, parentVersion)
              : null,
          } as ModelVersion);
          await em.flush();
        }
        if (await em.getRepository(ModelVersion).findAtStage(task, ModelStage.PRODUCTION)) return;
        const eligible = new Set(found.filter((f) => mayBecomeProduction(f.manifest)).map((f) => f.version));
        const staged = await em.getRepository(ModelVersion).findAllAtStage(task, ModelStage.STAGING);
        const newest = staged
          .filter((v) => eligible.has(v.version))
          .sort((a, b) => compareVersions(a.version, b.version))
          .at(-1);
        if (!newest) return;
        newest.stage = ModelStage.PRODUCTION;
        newest.promotedAt = new Date();
        em.create(ModelStageChange, {
          modelVersion: newest,
          task,
          kind: ModelStageChangeKind.INITIAL_PRODUCTION,
          fromStage: ModelStage.STAGING,
          toStage: ModelStage.PRODUCTION,
          trafficShare: 0,
        } as ModelStageChange);
        // The parent it replaces (still STAGING on a fresh install) is archived as its rollback target.
        const parent = newest.parent;
        if (parent && parent.stage === ModelStage.STAGING) {
          parent.stage = ModelStage.ARCHIVED;
          newest.previousProduction = parent;
          em.create(ModelStageChange, {
            modelVersion: parent,
            task,
            kind: ModelStageChangeKind.REPLACED,
            fromStage: ModelStage.STAGING,
            toStage: ModelStage.ARCHIVED,
            trafficShare: 0,
          } as ModelStageChange);
        }
        await em.flush();
        this.logger.info(
          { task, version: newest.version },
          'no production model: promoted the newest registered version',
        );
      });
    }
    const serving = await this.serving.reconcile();
    for (const v of serving)
      this.logger.info({ task: v.task, version: v.version, stage: v.stage }, 'model version serving');
    return serving;
  }
}
