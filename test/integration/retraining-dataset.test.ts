/**
 * The retraining manifest from a shared folder reached through a symbolic link: a correction's copy
 * lives in the run folder, outside datasets/, so its manifest path climbs out with `..`. The trainer
 * opens `<datasets>/<path>` without normalising it, and the OS resolves `..` after following the link,
 * so the path must be relative to the real datasets folder (regression: the retraining tests failed
 * with FileNotFoundError in a checkout whose ../shared was a link).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvRecords } from '../../src/training/csv';
import { assembleRetrainingDataset } from '../../src/training/retraining-dataset';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';

const ready = sharedDataAvailable();

(ready ? describe : describe.skip)('assembleRetrainingDataset', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'cc-dataset-'));
    symlinkSync(SHARED_DIR, join(tmp, 'shared-link'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes paths that open from the datasets folder unnormalised, also through a symlinked shared folder', async () => {
    const dataset = await assembleRetrainingDataset({
      task: 'wrist',
      workDir: join(tmp, 'run'),
      sharedDir: join(tmp, 'shared-link'),
      corrections: [{ objectKey: 'retraining/wrist/FRACTURE/a.png', trueLabel: 'FRACTURE', group: 'p-1' }],
      renderCopy: async () => Buffer.from('a training copy'),
      baseFraction: 0.05,
    });
    const rows = readCsvRecords(readFileSync(dataset.manifestPath, 'utf8'));
    const correction = rows.find((r) => r.source === 'corrections')!;
    expect(correction.path).toMatch(/^\.\.\//);
    const base = rows.find((r) => r.source !== 'corrections')!;
    // As the trainer opens them: `<datasets root>/<path>` as a string, `..` resolved by the OS after
    // following links (path.join would fold it lexically and hide the bug).
    expect(existsSync(`${dataset.datasetsRoot}/${correction.path}`)).toBe(true);
    expect(existsSync(`${dataset.datasetsRoot}/${base.path}`)).toBe(true);
    expect(dataset.counts.corrections).toBe(1);
  });
});
