/**
 * The `inspect` CLI as a child process: its JSON agrees with dcmdump on the header fields and with a
 * dcmtk reference decode on min/max/mean; failures print a coded error to stderr and exit 2.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DICOM_DIR, hasTool, referenceDecode, skip } from './imaging.support';

const ROOT = path.resolve(__dirname, '../..');
const FILE = path.join(DICOM_DIR, 'real_radiographs/CR_hip_MONO2_jpeg_lossless_sv1_RG2_JPLL.dcm');

function inspect(file: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', 'src/cli/inspect.ts', file], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Reads `(gggg,eeee) VR value` lines of dcmdump -Un into a tag → value map. */
function dcmdump(file: string): Map<string, string> {
  const out = spawnSync(
    'dcmdump',
    [
      '-Un',
      '+P',
      '0002,0010',
      '+P',
      '0028,0004',
      '+P',
      '0028,0010',
      '+P',
      '0028,0011',
      '+P',
      '0028,0101',
      '+P',
      '0028,0008',
      file,
    ],
    {
      encoding: 'utf8',
    },
  ).stdout;
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = line.match(/^\((\w{4},\w{4})\) \w\w (?:=|\[)?([^\]\s#]+)/);
    if (m) map.set(m[1]!, m[2]!);
  }
  return map;
}

describe('inspect CLI', () => {
  it('prints one JSON object that agrees with dcmdump and a dcmtk decode', () => {
    if (!existsSync(FILE)) return void skip(`${FILE} is missing`);
    if (!hasTool('dcmdump')) return void skip('dcmdump (dcmtk) is not installed');
    const r = inspect(FILE);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    const d = dcmdump(FILE);
    expect(out).toMatchObject({
      format: 'DICOM',
      transferSyntaxUid: d.get('0002,0010'),
      transferSyntax:
        'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])',
      photometric: d.get('0028,0004'),
      rows: Number(d.get('0028,0010')),
      columns: Number(d.get('0028,0011')),
      bitsStored: Number(d.get('0028,0101')),
      frames: Number(d.get('0028,0008') ?? 1),
    });
    const ref = referenceDecode(FILE, out.transferSyntaxUid);
    if (!ref) return void skip('dcmdjpeg is not installed');
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of ref.stored) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    // No rescale in this file, so modality values equal stored values.
    expect([out.min, out.max]).toEqual([min, max]);
    expect(out.mean).toBeCloseTo(sum / ref.stored.length, 6);
  });

  it('prints a coded error to stderr and exits 2 on a corrupt file', () => {
    const bad = path.join(DICOM_DIR, 'known_bad/DX_chest_966_truncated_j2k_stream.dcm');
    if (!existsSync(bad)) return void skip(`${bad} is missing`);
    const r = inspect(bad);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ error: { code: 'CORRUPT_IMAGE' } });
  });
});
