/**
 * Cost of the de-identified copy a correction writes: `node -r @swc-node/register bench/deidentify.bench.ts [runs]`.
 * For each file: median and p90 ms of `deidentifyImage` (DICOM: Basic Profile rewrite, fragments
 * copied without decoding; PNG/JPEG: decode + PNG re-encode) and of `decodeImage` of the same file
 * measured in the same run, and their ratio. Writes bench/results/deidentify.json. Timing lives here,
 * never in tests.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeImage, deidentifyImage, warmUpCodecs } from '../src/imaging';
import { median, quantile, r2, r3 } from './bench-utils';

const SHARED = path.resolve(process.env.CARE_SHARED_DIR ?? path.resolve(__dirname, '../../shared'));
const D = (rel: string): string => path.join(SHARED, 'datasets', rel);
const LIMITS = { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 };
const OPTIONS = { uidKey: 'bench-key', pseudonym: 'P-bench' };

const CASES: [string, string][] = [
  [
    'DICOM implicit LE uncompressed (CR 440²)',
    D('dicom/real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm'),
  ],
  ['DICOM explicit LE uncompressed (MR 1024²)', D('dicom/pydicom_data_extra/MR2_UNCR.dcm')],
  ['DICOM J2K lossy (CR 1955×1841)', D('dicom/real_radiographs/CR_chest_MONO1_j2k_lossy_RG1_J2KI.dcm')],
  [
    'DICOM J2K lossless (DX 2128×2000)',
    D('dicom/real_radiographs/DX_chest_MONO1_j2k_lossless_966_fixed.dcm'),
  ],
  ['JPEG chest 8-bit (kermany)', D('chest/kermany/test/NORMAL/IM-0001-0001.jpeg')],
];

async function time(fn: () => Promise<unknown>, runs: number): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 15);
  await warmUpCodecs();
  const rows = [];
  for (const [name, file] of CASES) {
    if (!existsSync(file)) {
      console.log(`skipped ${name}: ${file} missing`);
      continue;
    }
    const bytes = readFileSync(file);
    const deid = await time(() => deidentifyImage(bytes, OPTIONS, LIMITS), runs);
    const decode = await time(() => decodeImage(bytes, LIMITS), runs);
    rows.push({
      case: name,
      bytes: bytes.length,
      deidentifyMedianMs: r2(median(deid)),
      deidentifyP90Ms: r2(quantile(deid, 0.9)),
      decodeMedianMs: r2(median(decode)),
      deidentifyOverDecode: r3(median(deid) / median(decode)),
    });
  }
  console.table(rows);
  const out = path.join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'deidentify.json'), JSON.stringify({ runs, rows }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
