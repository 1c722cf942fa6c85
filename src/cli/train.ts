/**
 * `npm run train -- --task chest|wrist --version v2 [--epochs N] [--time-budget-min M] [--register] [--force] [--smoke]`
 *
 * `--smoke` trains a few batches only: a check that the whole pipeline runs, not a usable model.
 *
 * Builds the patient-grouped dataset manifest from ../shared (the trainer's data module), runs the
 * PyTorch trainer (Debian python3-torch under /usr/bin/python3), checks the exported model loads in
 * onnxruntime-node and that model.json validates (`training/train-model.ts`), and with --register
 * records the training run and a STAGING model version in the database of the configuration
 * (DATABASE_URL or the embedded one).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/app-config';
import { createOrm, migrateToLatest } from '../db/orm';
import { startEmbeddedPostgres } from '../db/embedded-postgres';
import { registerCliTraining } from '../domain/training-run/model-registration.service';
import { codeVersion, ModelFolderTakenError, trainModel, TrainedModel } from '../training/train-model';

/** Records the trained model in the configuration's database (DATABASE_URL or the embedded one). */
async function register(
  trained: TrainedModel,
  args: { task: 'chest' | 'wrist'; version: string; parameters: Record<string, unknown> },
): Promise<void> {
  const config = loadConfig();
  const embedded = config.database.url ? null : await startEmbeddedPostgres(config.database.embeddedDir);
  const orm = await createOrm({ url: config.database.url ?? embedded!.url, poolMax: 2 });
  try {
    await migrateToLatest(orm);
    const registered = await registerCliTraining(orm.em.fork(), {
      ...args,
      artifactPath: trained.outDir,
      manifest: trained.manifest,
      manifestSha256: trained.manifestSha256,
      codeVersion: codeVersion(),
      startedAt: trained.startedAt,
    });
    console.log(JSON.stringify({ registered }));
  } finally {
    await orm.close(true);
    await embedded?.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      task: { type: 'string' },
      version: { type: 'string' },
      epochs: { type: 'string' },
      'time-budget-min': { type: 'string' },
      'models-dir': { type: 'string', default: 'models' },
      register: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
    },
  });
  const task = values.task;
  const version = values.version;
  if ((task !== 'chest' && task !== 'wrist') || !version || !/^[A-Za-z0-9._-]{1,40}$/.test(version)) {
    console.error(
      'usage: train --task chest|wrist --version <v2> [--epochs N] [--time-budget-min M] [--register] [--force]',
    );
    process.exit(2);
  }
  const epochs = values.epochs ? Number(values.epochs) : undefined;
  const timeBudgetMin = values['time-budget-min'] ? Number(values['time-budget-min']) : undefined;
  const trained = await trainModel({
    task,
    version,
    modelsDir: values['models-dir']!,
    epochs,
    timeBudgetMin,
    smoke: values.smoke,
    force: values.force,
    onLine: (line) => console.log(line),
  });
  if (values.register) await register(trained, { task, version, parameters: { epochs, timeBudgetMin } });
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(error instanceof ModelFolderTakenError ? 2 : 1);
});
