/**
 * `npm run drift:profile -- --task chest --version v1 [--sample 500] [--components 32] [--seed 1234]`:
 * runs the committed model over a seeded sample of its training split (from its manifest.csv, films
 * under `<shared>/datasets/`) with the server's preprocessing, and writes
 * `models/<task>/<version>/reference-profile.json` for drift detection
 * (`monitoring/drift-detection/profile-training-sample.ts`).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { profileTrainingSample } from '../monitoring/drift-detection/profile-training-sample';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      task: { type: 'string' },
      version: { type: 'string' },
      sample: { type: 'string', default: '500' },
      components: { type: 'string', default: '32' },
      seed: { type: 'string', default: '1234' },
      split: { type: 'string', default: 'train' },
      'models-dir': { type: 'string', default: 'models' },
      'shared-dir': { type: 'string', default: process.env.CARE_SHARED_DIR ?? '../shared' },
    },
  });
  if (!values.task || !values.version) {
    console.error('usage: drift:profile -- --task chest|wrist --version v1 [--sample 500] [--components 32]');
    process.exit(2);
  }
  const started = Date.now();
  const written = await profileTrainingSample({
    task: values.task,
    version: values.version,
    modelsDir: values['models-dir']!,
    sharedDir: values['shared-dir']!,
    sample: Number(values.sample),
    components: Number(values.components),
    seed: Number(values.seed),
    split: values.split!,
    onProgress: (n, total) => process.stderr.write(`\r${n}/${total}`),
  });
  process.stderr.write('\n');
  console.log(JSON.stringify({ ...written, seconds: Math.round((Date.now() - started) / 100) / 10 }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
