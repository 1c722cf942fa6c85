import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createOrm } from '../../src/db/orm';
import { ModelVersion } from '../../src/domain/model-version/model-version.entity';
import { TrainingRun } from '../../src/domain/training-run/training-run.entity';
import { loadModelManifest } from '../../src/inference/model-manifest';
import { PYTHON } from '../../src/training/trainer-runner';
import { sharedDataAvailable } from '../support/shared-data';
import { createTestDatabase, requireOrSkip, TestDatabase } from '../support/test-database';

const run = promisify(execFile);

describe('npm run train (smoke): manifest → PyTorch trainer → ONNX → registry', () => {
  const ready =
    sharedDataAvailable() &&
    requireOrSkip(existsSync(PYTHON), `${PYTHON} with python3-torch (scripts/setup.sh installs it)`);
  let db: TestDatabase;
  let modelsDir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    modelsDir = mkdtempSync(join(tmpdir(), 'cc-train-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('trains a smoke wrist model, exports it, and registers a STAGING version with its training run', async () => {
    if (!ready) return;
    if (
      !requireOrSkip(db.real, 'the train CLI registers into its own database connection: needs DATABASE_URL')
    )
      return;
    const { stdout } = await run(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        'src/cli/train.ts',
        '--task',
        'wrist',
        '--version',
        'smoke',
        '--smoke',
        '--models-dir',
        modelsDir,
        '--register',
      ],
      { env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: db.url }, maxBuffer: 1 << 26 },
    );
    const dir = join(modelsDir, 'wrist', 'smoke');
    for (const f of ['manifest.csv', 'model.onnx', 'model.json', 'model.pt', 'MODEL_CARD.md'])
      expect(existsSync(join(dir, f))).toBe(true);
    const manifest = await loadModelManifest(dir);
    const registered = JSON.parse(stdout.trim().split('\n').pop()!).registered;
    const orm = await createOrm({ url: db.url, poolMax: 1 });
    try {
      const version = await orm.em
        .fork()
        .findOneOrFail(ModelVersion, { id: registered.modelVersionId }, { populate: ['trainingRun'] });
      expect(version).toMatchObject({
        version: 'smoke',
        stage: 'STAGING',
        manifestSha256: manifest.trainingData.manifestSha256,
      });
      const trainingRun = version.trainingRun as TrainingRun;
      expect(trainingRun.status).toBe('SUCCEEDED');
      expect(trainingRun.codeVersion).toBeTruthy();
      expect(trainingRun.finishedAt!.getTime()).toBeGreaterThan(trainingRun.startedAt!.getTime());
    } finally {
      await orm.close(true);
    }
  }, 300_000);
});
