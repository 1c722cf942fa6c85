/**
 * `npm run train -- --task chest|wrist --version v2 [--epochs N] [--time-budget-min M] [--register] [--force] [--smoke]`
 *
 * `--smoke` trains a few batches only: a check that the whole pipeline runs, not a usable model.
 *
 * Builds the patient-grouped dataset manifest from ../shared (the trainer's data module), runs the
 * PyTorch trainer (Debian python3-torch under /usr/bin/python3), checks the exported model loads in
 * onnxruntime-node and that model.json validates, and with --register records the training run and a
 * STAGING model version in the database of the configuration (DATABASE_URL or the embedded one).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/app-config';
import { createOrm, migrateToLatest } from '../db/orm';
import { startEmbeddedPostgres } from '../db/embedded-postgres';
import { registerCliTraining } from '../domain/training-run/model-registration.service';
import { loadModel } from '../inference/model-loader';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import { LocalTrainerRunner, runPython, TRAINER_DIR } from '../training/trainer-runner';

/** Git revision of the working tree, marked dirty when it has changes. */
export function codeVersion(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src/training'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${rev}-dirty` : rev;
  } catch {
    return 'unknown';
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
  if (
    (task !== 'chest' && task !== 'wrist') ||
    !values.version ||
    !/^[A-Za-z0-9._-]{1,40}$/.test(values.version)
  ) {
    console.error(
      'usage: train --task chest|wrist --version <v2> [--epochs N] [--time-budget-min M] [--register] [--force]',
    );
    process.exit(2);
  }
  const outDir = join(values['models-dir']!, task, values.version);
  if (existsSync(join(outDir, 'model.onnx')) && !values.force) {
    console.error(`${outDir} already holds a model; choose another --version or pass --force`);
    process.exit(2);
  }
  mkdirSync(outDir, { recursive: true });
  const manifest = join(outDir, 'manifest.csv');
  const started = new Date();
  console.log(`building manifest ${manifest}`);
  await runPython([join(TRAINER_DIR, 'build_manifest.py'), '--task', task, '--out', manifest], (l) =>
    console.log(l),
  );
  const manifestSha256 = createHash('sha256').update(readFileSync(manifest)).digest('hex');
  console.log(`manifest sha256 ${manifestSha256}`);
  const epochs = values.epochs ? Number(values.epochs) : undefined;
  const timeBudgetMin = values['time-budget-min'] ? Number(values['time-budget-min']) : undefined;
  await new LocalTrainerRunner().run({
    task,
    manifest,
    outDir,
    version: values.version,
    epochs,
    timeBudgetMin,
    extraArgs: values.smoke ? ['--smoke'] : [],
  });
  const model = await loadModel(outDir, new OnnxSessionFactory(), { executionProviders: ['cpu'] });
  await model.session.release();
  console.log(
    `model ${model.manifest.name}@${model.manifest.version} loads in onnxruntime-node; manifest ${model.manifest.trainingData.manifestSha256}`,
  );
  if (!values.register) return;
  const config = loadConfig();
  const embedded = config.database.url ? null : await startEmbeddedPostgres(config.database.embeddedDir);
  const orm = await createOrm({ url: config.database.url ?? embedded!.url, poolMax: 2 });
  try {
    await migrateToLatest(orm);
    const registered = await registerCliTraining(orm.em.fork(), {
      task,
      version: values.version!,
      artifactPath: outDir,
      manifest: model.manifest,
      manifestSha256,
      parameters: { epochs, timeBudgetMin },
      codeVersion: codeVersion(),
      startedAt: started,
    });
    console.log(JSON.stringify({ registered }));
  } finally {
    await orm.close(true);
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
