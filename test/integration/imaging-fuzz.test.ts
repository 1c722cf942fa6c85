/**
 * Fuzz-style robustness: ~200 deterministic mutations (bit flips, header byte changes, truncations,
 * cut-outs) of real PNG, JPEG and DICOM files. Each must either decode to a complete image or throw
 * an ImageError — never another exception, never a hang. Decoding runs in a worker thread so a
 * runaway synchronous loop can be stopped: each case is bounded by CASE_TIMEOUT_MS.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { seededRandom } from '../../src/shared/random';
import { datasetDir, datasetPath } from '../support/shared-data';

const CASE_TIMEOUT_MS = 30_000;
const ROOT = path.resolve(__dirname, '../..');

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
require(${JSON.stringify(require.resolve('@swc-node/register'))});
const { decodeImage } = require(${JSON.stringify(path.join(ROOT, 'src/imaging/index.ts'))});
const { ImageError } = require(${JSON.stringify(path.join(ROOT, 'src/errors/image-errors.ts'))});
parentPort.on('message', async ({ id, bytes }) => {
  try {
    const img = await decodeImage(new Uint8Array(bytes), { maxBytes: 64 * 1024 * 1024, maxPixels: 20000000 });
    const complete = img.pixels.length === img.width * img.height && img.width > 0 && img.height > 0;
    parentPort.postMessage({ id, outcome: complete ? 'decoded' : 'incomplete' });
  } catch (e) {
    parentPort.postMessage({ id, outcome: e instanceof ImageError ? 'ImageError:' + e.code : 'other:' + (e && e.name) + ':' + (e && e.message) });
  }
});
`;

interface Case {
  name: string;
  bytes: Uint8Array;
}

function mutations(label: string, src: Buffer, count: number, rnd: () => number): Case[] {
  const out: Case[] = [];
  const int = (n: number): number => Math.floor(rnd() * n);
  for (let k = 0; k < count; k++) {
    const b = Uint8Array.from(src);
    const kind = k % 5;
    let what: string;
    if (kind === 0) {
      const flips = 1 + int(8);
      for (let i = 0; i < flips; i++) {
        const at = int(b.length);
        b[at]! ^= 1 << int(8);
      }
      what = `${flips} bit flips anywhere`;
    } else if (kind === 1) {
      const at = int(Math.min(b.length, 1500));
      b[at] = [0x00, 0xff, 0x7f, 0x80][int(4)]!;
      what = `header byte ${at} set`;
    } else if (kind === 2) {
      const len = int(b.length);
      out.push({ name: `${label} #${k}: truncated to ${len}`, bytes: b.subarray(0, len) });
      continue;
    } else if (kind === 3) {
      const at = int(Math.min(b.length, 1500));
      for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = int(256);
      what = `4 random header bytes at ${at}`;
    } else {
      const from = int(b.length);
      const len = 1 + int(Math.min(4096, b.length - from));
      out.push({
        name: `${label} #${k}: ${len} bytes cut at ${from}`,
        bytes: Uint8Array.from([...b.subarray(0, from), ...b.subarray(from + len)]),
      });
      continue;
    }
    out.push({ name: `${label} #${k}: ${what}`, bytes: b });
  }
  return out;
}

const SOURCES: [string, string, number][] = [
  ['CR MONO1 implicit', 'dicom/real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm', 25],
  ['RG3 J2K lossy', 'dicom/real_radiographs/CR_extremity_MONO1_j2k_lossy_RG3_J2KI.dcm', 15],
  ['JPEG lossless SV1', 'dicom/pydicom_data_extra/JPGLosslessP14SV1_1s_1f_8b.dcm', 20],
  ['JPEG extended 12-bit', 'dicom/pydicom_data_extra/JPEGExtended_1s_1f_u_16_12.dcm', 25],
  ['JPEG baseline DICOM', 'dicom/pydicom_data_extra/JPEGBaseline_1s_1f_u_08_08.dcm', 20],
  ['RLE', 'dicom/pydicom_debian_test_files/MR_small_RLE.dcm', 20],
  ['JPEG-LS', 'dicom/pydicom_debian_test_files/MR_small_jpeg_ls_lossless.dcm', 20],
  ['J2K lossless', 'dicom/pydicom_debian_test_files/MR_small_jp2klossless.dcm', 15],
  ['big endian', 'dicom/pydicom_debian_test_files/MR_small_bigendian.dcm', 10],
];

function buildCases(): Case[] {
  // Deterministic, so every run fuzzes the same cases.
  const rnd = seededRandom(20261123);
  const cases: Case[] = [];
  for (const [label, rel, n] of SOURCES) {
    const file = datasetPath(rel);
    if (existsSync(file)) cases.push(...mutations(label, readFileSync(file), n, rnd));
  }
  const wrist = datasetDir('wrist_grazpedwri_metadata/sample_images');
  const png = existsSync(wrist) ? readdirSync(wrist).find((f) => /^\d.*\.png$/.test(f)) : undefined;
  if (png) cases.push(...mutations('16-bit PNG', readFileSync(path.join(wrist, png)), 15, rnd));
  const chest = datasetDir('chest/tbx11k/images', 'chest/kermany/test/NORMAL');
  const jpg = existsSync(chest) ? readdirSync(chest).find((f) => /\.jpe?g$/.test(f)) : undefined;
  if (jpg) cases.push(...mutations('chest JPEG', readFileSync(path.join(chest, jpg)), 15, rnd));
  return cases;
}

describe('fuzzed inputs decode or fail with ImageError', () => {
  let worker: Worker;
  let seq = 0;
  const pending = new Map<number, (outcome: string) => void>();

  function startWorker(): void {
    worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', ({ id, outcome }: { id: number; outcome: string }) => pending.get(id)?.(outcome));
  }

  function run(bytes: Uint8Array): Promise<string> {
    const id = ++seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        void worker.terminate().then(() => {
          startWorker();
          resolve('timeout');
        });
      }, CASE_TIMEOUT_MS);
      pending.set(id, (outcome) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(outcome);
      });
      worker.postMessage({ id, bytes });
    });
  }

  beforeAll(() => startWorker());
  afterAll(async () => {
    await worker.terminate();
  });

  it('runs about 200 deterministic mutations', async () => {
    const cases = buildCases();
    expect(cases.length).toBeGreaterThanOrEqual(150);
    const tally: Record<string, number> = {};
    const bad: string[] = [];
    for (const c of cases) {
      const outcome = await run(c.bytes);
      tally[outcome] = (tally[outcome] ?? 0) + 1;
      if (outcome !== 'decoded' && !outcome.startsWith('ImageError:')) bad.push(`${c.name} → ${outcome}`);
    }

    console.log(`fuzz outcomes over ${cases.length} cases: ${JSON.stringify(tally)}`);
    expect(bad).toEqual([]);
  }, 600_000);
});
