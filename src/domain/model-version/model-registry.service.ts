import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { InferenceEngine } from '../../inference/inference-engine';
import { compareVersions, listVersions } from '../../inference/model-repository';
import { loadModelManifest, ModelManifest } from '../../inference/model-manifest';
import type { Logger } from '../../logging/logger';
import { ModelStage, ModelTask } from '../enums';
import { ModelVersion } from './model-version.entity';

const TASKS: Record<string, ModelTask> = { chest: ModelTask.CHEST, wrist: ModelTask.WRIST };

/** The metrics kept on the registry row: a summary of model.json's test metrics. */
function metricsSummary(m: ModelManifest): Record<string, unknown> {
  return {
    aurocPerClass: m.metrics.aurocPerClass,
    atThresholds: m.metrics.atThresholds,
    temperature: m.temperature,
    gate: m.gate,
  };
}

/**
 * Keeps the registry and the engine in step with the model repository (`models/<task>/<version>/`):
 * registers versions found on disk, makes the newest the PRODUCTION version of a task that has none,
 * and loads every PRODUCTION and CANARY version into the engine.
 */
export class ModelRegistryService {
  constructor(
    private readonly rootEm: EntityManager,
    private readonly engine: InferenceEngine,
    private readonly modelsDir: string,
    private readonly logger: Logger,
  ) {}

  /** Registers what is on disk and loads the serving versions; returns the loaded ones. */
  async syncRepository(): Promise<ModelVersion[]> {
    const em = this.rootEm.fork();
    for (const [folder, task] of Object.entries(TASKS)) {
      const versions = await listVersions(this.modelsDir, folder);
      for (const version of versions.sort(compareVersions)) {
        const dir = join(this.modelsDir, folder, version);
        let manifest: ModelManifest;
        try {
          manifest = await loadModelManifest(dir);
        } catch (error) {
          this.logger.warn(
            { dir, err: (error as Error).message },
            'skipping a model folder with an invalid model.json',
          );
          continue;
        }
        const existing = await em.findOne(ModelVersion, { task, version });
        if (!existing) {
          em.create(ModelVersion, {
            task,
            version,
            artifactPath: dir,
            manifestSha256: manifest.trainingData.manifestSha256,
            metrics: metricsSummary(manifest),
            stage: ModelStage.STAGING,
          } as ModelVersion);
        }
      }
      await em.flush();
      const production = await em.findOne(ModelVersion, { task, stage: ModelStage.PRODUCTION });
      if (!production) {
        const all = await em.find(ModelVersion, { task, stage: ModelStage.STAGING });
        const newest = all.sort((a, b) => compareVersions(a.version, b.version)).at(-1);
        if (newest) {
          newest.stage = ModelStage.PRODUCTION;
          newest.promotedAt = new Date();
          await em.flush();
          this.logger.info(
            { task, version: newest.version },
            'no production model: promoted the newest registered version',
          );
        }
      }
    }
    const serving = await em.find(ModelVersion, {
      stage: { $in: [ModelStage.PRODUCTION, ModelStage.CANARY] },
    });
    for (const v of serving) {
      await this.engine.loadVersion(v.task.toLowerCase(), v.version, v.artifactPath, {
        activate: v.stage === ModelStage.PRODUCTION,
      });
      this.logger.info({ task: v.task, version: v.version, stage: v.stage }, 'model version loaded');
    }
    return serving;
  }
}
