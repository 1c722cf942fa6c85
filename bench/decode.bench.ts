/**
 * Decode time per format on the shared test data: `node -r @swc-node/register bench/decode.bench.ts [runs]`.
 * Prints one JSON table (median and p90 milliseconds, megapixels per second, and the ratio to the
 * chest JPEG measured in the same run). Timing lives here, never in tests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeImage, warmUpCodecs } from '../src/imaging';

const SHARED = path.resolve(process.env.CARE_SHARED_DIR ?? path.resolve(__dirname, '../../shared'));
const D = (rel: string): string => path.join(SHARED, 'datasets', rel);
const LIMITS = { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 };

function firstIn(dir: string, re: RegExp): string | undefined {
  if (!existsSync(dir)) return undefined;
  const f = readdirSync(dir)
    .filter((n) => re.test(n))
    .sort()[0];
  return f ? path.join(dir, f) : undefined;
}

const CASES: [string, string | undefined][] = [
  ['JPEG chest 8-bit (tbx11k)', firstIn(D('chest/tbx11k/images'), /\.jpe?g$/)],
  ['PNG 8-bit grayscale', D('ood/opencv/basketball1.png')],
  ['PNG 16-bit wrist (GRAZPEDWRI)', firstIn(D('wrist_grazpedwri_metadata/sample_images'), /^\d.*\.png$/)],
  [
    'DICOM uncompressed implicit LE (CR 440²)',
    D('dicom/real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm'),
  ],
  ['DICOM uncompressed explicit LE (MR 1024²)', D('dicom/pydicom_data_extra/MR2_UNCR.dcm')],
  ['DICOM J2K lossy (CR 1760²)', D('dicom/real_radiographs/CR_extremity_MONO1_j2k_lossy_RG3_J2KI.dcm')],
  [
    'DICOM J2K lossless (DX 2128×2000)',
    D('dicom/real_radiographs/DX_chest_MONO1_j2k_lossless_966_fixed.dcm'),
  ],
  [
    'DICOM JPEG-LS lossless (CR 2140×1760)',
    D('dicom/real_radiographs/CR_hip_MONO2_jpegls_lossless_RG2_JLSL.dcm'),
  ],
  [
    'DICOM JPEG lossless SV1 (CR 2140×1760)',
    D('dicom/real_radiographs/CR_hip_MONO2_jpeg_lossless_sv1_RG2_JPLL.dcm'),
  ],
  [
    'DICOM JPEG extended 12-bit (CR 2140×1760)',
    D('dicom/real_radiographs/CR_hip_MONO2_jpeg_extended_12bit_RG2_JPLY.dcm'),
  ],
];

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  const runs = Math.max(1, Number(process.argv[2] ?? 7));
  await warmUpCodecs();
  const rows: Record<string, unknown>[] = [];
  let baseline: number | undefined;
  for (const [name, file] of CASES) {
    if (!file || !existsSync(file)) {
      rows.push({ name, skipped: 'file missing' });
      continue;
    }
    const buf = readFileSync(file);
    const first = await decodeImage(buf, LIMITS);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await decodeImage(buf, LIMITS);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const median = quantile(times, 0.5);
    baseline ??= median;
    const mp = (first.width * first.height) / 1e6;
    rows.push({
      name,
      format: first.format,
      transferSyntaxUid: first.transferSyntaxUid ?? null,
      size: `${first.width}x${first.height}`,
      bytes: buf.length,
      runs,
      medianMs: Number(median.toFixed(2)),
      p90Ms: Number(quantile(times, 0.9).toFixed(2)),
      megapixelsPerSecond: Number((mp / (median / 1000)).toFixed(1)),
      ratioToChestJpeg: Number((median / baseline).toFixed(2)),
    });
  }
  process.stdout.write(`${JSON.stringify({ node: process.version, runs, results: rows }, null, 2)}\n`);
}

void main();
