/**
 * Every real radiograph (and RG1 transcoded to each lossless syntax) decodes, and its stored values
 * match a reference decode made now with dcmtk or gdcm: exactly for lossless syntaxes; for lossy ones
 * the mean absolute difference must stay within 1% of the value range (and the max within 5%),
 * which covers IDCT/wavelet rounding differences between codec builds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeDicomStored } from '../../src/imaging/dicom/dicom.decoder';
import { decodeImage } from '../../src/imaging';
import { transferSyntaxInfo } from '../../src/imaging/dicom/transfer-syntax';
import { compare, DICOM_DIR, hasTool, indexRows, referenceDecode, skip, warn } from './imaging.support';

const LIMITS = { maxBytes: 512 * 1024 * 1024, maxPixels: 50_000_000 };
const REAL_DIR = path.join(DICOM_DIR, 'real_radiographs');
const TRANSCODED_DIR = path.join(DICOM_DIR, 'transcoded_from_RG1_chest_CR');
const RG1 = path.join(REAL_DIR, 'CR_chest_MONO1_j2k_lossy_RG1_J2KI.dcm');

/** Numbers printed at the end so the report can quote them. */
const results: Record<
  string,
  { ts: string; tool: string; maxAbs: number; meanAbs: number; range: number; lossless: boolean }
> = {};

async function checkAgainstReference(file: string): Promise<void> {
  const buf = readFileSync(file);
  const { header, syntax, stored } = await decodeDicomStored(buf, LIMITS);
  const ref = referenceDecode(file, header.inferredTransferSyntax ? '' : syntax.uid);
  if (!ref) {
    skip(`reference tool for ${syntax.name} is not installed`);
    return;
  }
  expect([header.rows, header.columns]).toEqual([ref.rows, ref.columns]);
  expect(header.attributes.bitsStored).toBe(ref.originalBitsStored);
  expect(ref.bitsStored).toBeGreaterThanOrEqual(header.attributes.bitsStored);
  expect(stored.length).toBe(ref.stored.length);
  const c = compare(stored, ref.stored);
  results[path.basename(file)] = { ts: syntax.uid, tool: ref.tool, ...c, lossless: syntax.lossless };
  if (syntax.lossless) {
    expect(c.maxAbs).toBe(0);
  } else {
    expect(c.meanAbs).toBeLessThanOrEqual(0.01 * c.range);
    expect(c.maxAbs).toBeLessThanOrEqual(0.05 * c.range);
  }
  // The public API returns the same pixels after the modality LUT.
  const img = await decodeImage(buf, LIMITS);
  expect(img.width).toBe(header.columns);
  expect(img.height).toBe(header.rows);
  expect(img.pixels.length).toBe(stored.length);
}

afterAll(() => {
  if (Object.keys(results).length > 0)
    console.log(`reference comparison:\n${JSON.stringify(results, null, 1)}`);
});

describe('real radiographs against a dcmtk/gdcm reference decode', () => {
  const present = existsSync(REAL_DIR) ? readdirSync(REAL_DIR).filter((f) => f.endsWith('.dcm')) : [];

  it('has the shared data set', () => {
    if (present.length === 0) return void skip(`no DICOM data under ${REAL_DIR}`);
    expect(present.length).toBeGreaterThanOrEqual(10);
  });

  it('reports files listed in index.csv but missing from the share', () => {
    const missing = indexRows('real_radiographs/').filter((r) => !existsSync(path.join(DICOM_DIR, r.path)));
    if (missing.length > 0)
      warn(
        `index.csv lists ${missing.length} real radiograph(s) absent from the share: ${missing.map((m) => m.path).join(', ')}`,
      );
  });

  it.each(present.length > 0 ? present : ['(none)'])('%s decodes and matches the reference', async (name) => {
    if (name === '(none)') return void skip('no real radiographs present');
    await checkAgainstReference(path.join(REAL_DIR, name));
  });

  it('agrees with index.csv on size, bits and photometric for every present file', async () => {
    const rows = indexRows('real_radiographs/').filter((r) => existsSync(path.join(DICOM_DIR, r.path)));
    if (rows.length === 0) return void skip('index.csv or the files are missing');
    for (const r of rows) {
      const img = await decodeImage(readFileSync(path.join(DICOM_DIR, r.path)), LIMITS);
      expect({
        file: r.path,
        rows: img.height,
        cols: img.width,
        bits: img.bitsStored,
        photometric: img.photometric,
      }).toEqual({
        file: r.path,
        rows: r.rows,
        cols: r.cols,
        bits: r.bitsStored,
        photometric: r.photometric,
      });
    }
  });
});

describe('RG1 chest CR in every lossless transfer syntax', () => {
  let dir: string | undefined;
  const made: Record<string, string> = {};

  beforeAll(() => {
    if (!existsSync(RG1) || !hasTool('gdcmconv')) return;
    dir = mkdtempSync(path.join(tmpdir(), 'cc-rg1-'));
    const explicit = path.join(dir, 'RG1_explicitLE.dcm');
    execFileSync('gdcmconv', ['--raw', RG1, explicit], { stdio: 'pipe' });
    made.explicitLE = explicit;
    for (const [name, args] of [
      ['implicitLE', ['--raw', '--implicit']],
      ['rle', ['--rle']],
      ['jpegLosslessP14', ['--jpeg']],
      ['jpegLsLossless', ['--jpegls']],
      ['j2kLossless', ['--j2k']],
    ] as const) {
      const out = path.join(dir, `RG1_${name}.dcm`);
      execFileSync('gdcmconv', [...args, explicit, out], { stdio: 'pipe' });
      made[name] = out;
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('uses the shared transcoded set when present, else makes it with gdcmconv', () => {
    if (!existsSync(TRANSCODED_DIR))
      warn(
        `${TRANSCODED_DIR} is absent from the share; RG1 is transcoded with gdcmconv at test time instead`,
      );
    if (!dir) skip('RG1 or gdcmconv is missing');
    else expect(Object.keys(made)).toHaveLength(6);
  });

  it.each(['explicitLE', 'implicitLE', 'rle', 'jpegLosslessP14', 'jpegLsLossless', 'j2kLossless'])(
    '%s is bit-exact',
    async (name) => {
      const file = made[name];
      if (!file) return void skip('RG1 transcodes were not made');
      const { syntax } = await decodeDicomStored(readFileSync(file), LIMITS);
      expect(transferSyntaxInfo(syntax.uid).lossless).toBe(true);
      await checkAgainstReference(file);
    },
  );

  const shared = existsSync(TRANSCODED_DIR)
    ? readdirSync(TRANSCODED_DIR).filter((f) => f.endsWith('.dcm'))
    : [];
  (shared.length > 0 ? it.each(shared) : it.skip.each(['(absent from the share)']))(
    'shared transcode %s matches the reference',
    async (name) => {
      await checkAgainstReference(path.join(TRANSCODED_DIR, name));
    },
  );
});
