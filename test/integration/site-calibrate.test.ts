import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readCsvRecords } from '../../src/training/csv';
import { SHARED_DIR, sharedDataAvailable } from '../support/shared-data';

const run = promisify(execFile);
const NODE = [process.execPath, '-r', '@swc-node/register'];
const CALIBRATE = [...NODE.slice(1), 'src/cli/site-calibrate.ts'];
const PREDICT = [...NODE.slice(1), 'src/cli/predict.ts'];
const MODEL = 'models/chest/v1';

/** A site labels CSV of Indian DA films (paths relative to the chest folder). */
function indianRows(n: number): string[][] {
  const rows = readCsvRecords(readFileSync(join(SHARED_DIR, 'datasets/chest/labels.csv'), 'utf8')).filter(
    (r) => r.source === 'indian_da',
  );
  const normal = rows.filter((r) => r.label === 'NORMAL').slice(0, n / 2);
  const tb = rows.filter((r) => r.label === 'TUBERCULOSIS').slice(0, n / 2);
  return [...normal, ...tb].map((r) => [r.path, r.label, r.patient_id]);
}

const csv = (rows: string[][]) =>
  ['path,label,patient_id', ...rows.map((r) => r.join(','))].join('\n') + '\n';

describe('site:calibrate and predict --site', () => {
  const ready = sharedDataAvailable();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cc-site-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const calibrate = (labels: string, out: string) =>
    run(
      NODE[0]!,
      [
        ...CALIBRATE,
        '--task',
        'chest',
        '--model',
        MODEL,
        '--labels',
        labels,
        '--root',
        join(SHARED_DIR, 'datasets/chest'),
        '--resamples',
        '100',
        '--out',
        out,
      ],
      { maxBuffer: 1 << 24 },
    );

  it.each([
    [
      'an unknown label',
      (r: string[][]) => [...r, [r[0]![0]!.replace('.', 'x.'), 'COVID', 'x']],
      /row 14: unknown label "COVID"/,
    ],
    [
      'a missing file',
      (r: string[][]) => [...r, ['indian_da/nope.jpg', 'NORMAL', 'y']],
      /row 14: file not found/,
    ],
    ['a duplicate', (r: string[][]) => [...r, r[3]!], /row 14: duplicate of row 5/],
    [
      'a patient with two labels',
      (r: string[][]) => [
        ...r,
        [r[7]![0]!.replace('.', 'y.'), r[7]![1] === 'NORMAL' ? 'TUBERCULOSIS' : 'NORMAL', r[7]![2]!],
      ],
      /row 14: patient .* in row 9/,
    ],
    ['one class only', (r: string[][]) => r.filter((x) => x[1] === 'NORMAL'), /one class only/],
  ])(
    'refuses %s naming the row, and writes nothing',
    async (_, edit, message) => {
      if (!ready) return;
      const labels = join(dir, 'bad.csv');
      const out = join(dir, 'bad-site.json');
      writeFileSync(labels, csv(edit(indianRows(12))));
      const failure = await calibrate(labels, out).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(failure?.code).toBe(2);
      const error = JSON.parse(failure!.stderr.trim().split('\n').at(-1)!).error;
      expect(error.code).toBe('SITE_LABELS_INVALID');
      expect(error.message).toMatch(message);
      expect(existsSync(out)).toBe(false);
    },
    120_000,
  );

  it('writes a site file that predict applies, and refuses it for another model', async () => {
    if (!ready) return;
    const labels = join(dir, 'site.csv');
    const out = join(dir, 'site.json');
    writeFileSync(labels, csv(indianRows(12)));
    const { stdout } = await calibrate(labels, out);
    const printed = JSON.parse(stdout);
    const site = JSON.parse(readFileSync(out, 'utf8'));
    expect(site).toMatchObject({
      kind: 'care-companion-site-operating-point',
      task: 'chest',
      labels: { n: 12 },
    });
    expect(printed.evaluation).toEqual(site.evaluation);
    expect(site.evaluation.counts).toEqual({ NORMAL: 6, TUBERCULOSIS: 6 });
    expect(site.evaluation.findings.TUBERCULOSIS.auroc.value).toEqual(expect.any(Number));
    // 6 TB films cannot carry a 98% guarantee: the shipped threshold stays, and the file says what is missing
    expect(site.operatingPoint.thresholds.TUBERCULOSIS).toMatchObject({
      source: 'shipped',
      positivesNeeded: 43,
    });

    // a site file with a chosen threshold is applied by predict
    site.operatingPoint.thresholds.TUBERCULOSIS.value = 0.5;
    writeFileSync(out, JSON.stringify(site));
    const film = join(SHARED_DIR, 'datasets/chest', indianRows(12)[7]![0]!);
    const p = await run(NODE[0]!, [...PREDICT, '--task', 'chest', '--model', MODEL, '--site', out, film]);
    const line = JSON.parse(p.stdout.trim());
    expect(line.thresholds.TUBERCULOSIS).toBe(0.5);
    expect(line.siteOperatingPoint).toEqual({ file: out, validated: true });
    const plain = JSON.parse(
      (await run(NODE[0]!, [...PREDICT, '--task', 'chest', '--model', MODEL, film])).stdout,
    );
    expect(plain.siteOperatingPoint).toEqual({ validated: false });

    const other = await run(NODE[0]!, [
      ...PREDICT,
      '--task',
      'chest',
      '--model',
      'models/wrist/v1',
      '--site',
      out,
      film,
    ]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(other?.code).toBe(2);
    expect(JSON.parse(other!.stderr.trim()).error.code).toBe('SITE_FILE_INVALID');
  }, 240_000);
});
