/**
 * Issue 18's decode targets: a 224–384 px JPEG or PNG (target ≤ 1 ms), ours beside the peer's own
 * decode (the trainer's `data.decode_gray01`, PIL, as bench/peer/server.py decodes an upload) timed in
 * one Python process in the same run; a 2k×2k 16-bit DICOM, uncompressed and RLE (target ≤ 30 ms
 * each), and the cost per megapixel of JPEG-LS and JPEG 2000 lossless, ours (`decodeImage`, in
 * process) beside GDCM's (`gdcmconv --raw`, libgdcm-tools) in the same run. The film is a real chest radiograph scaled to
 * 2048×2048 and widened to 16 bits (12 bits stored, so the codecs see realistic content); GDCM makes
 * every encoding of it. GDCM runs as a process: its decode time is `gdcmconv --raw` of the compressed
 * file minus `gdcmconv --raw` of the uncompressed one (start-up, parse and write), medians of both.
 * `npm run bench -- decode-targets [runs]`; writes bench/results/decode-targets.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { decodeImage, warmUpCodecs } from '../src/imaging';
import { median, quantile, r2 } from './bench-utils';

const ROOT = path.resolve(__dirname, '..');
const FILM = path.join(ROOT, 'test/fixtures/chest/kermany/test/NORMAL/IM-0001-0001.jpeg');
const SIZE = 2048;
const LIMITS = { maxBytes: 512 * 1024 * 1024, maxPixels: 100_000_000 };

/** A 16-bit (12 stored) big-endian PGM of the chest film at SIZE², which gdcmimg turns into a DICOM. */
async function pgm16(file: string): Promise<Buffer> {
  const gray = await sharp(readFileSync(file))
    .grayscale()
    .resize(SIZE, SIZE, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  const header = Buffer.from(`P5\n${SIZE} ${SIZE}\n4095\n`, 'ascii');
  const pixels = Buffer.alloc(SIZE * SIZE * 2);
  // 8 -> 12 bits with the low bits filled from a smooth ramp, so they are not all zero (as a real CR's are not).
  for (let i = 0; i < gray.length; i++) pixels.writeUInt16BE((gray[i]! << 4) | ((i >> 3) & 15), i * 2);
  return Buffer.concat([header, pixels]);
}

const PYTHON = process.env.PEER_PYTHON ?? '/usr/bin/python3';

/**
 * Small films as a front-end uploads them: the chest JPEG as published (224 px, grey stored as RGB),
 * and the same film at 384 px as a grey JPEG, and as 8-bit grey PNGs at both sizes.
 */
async function smallFilms(dir: string): Promise<Record<string, string>> {
  const src = readFileSync(FILM);
  const out: Record<string, string> = { 'JPEG 224 px, grey stored as RGB (as published)': FILM };
  for (const side of [224, 384]) {
    const grey = sharp(src).resize(side, side, { fit: 'fill' }).toColourspace('b-w');
    if (side !== 224) {
      const jpeg = path.join(dir, `film-${side}.jpeg`);
      writeFileSync(jpeg, await grey.clone().jpeg({ quality: 92 }).toBuffer());
      out[`JPEG ${side} px, grey`] = jpeg;
    }
    const png = path.join(dir, `film-${side}.png`);
    writeFileSync(png, await grey.clone().png().toBuffer());
    out[`PNG ${side} px, 8-bit grey`] = png;
  }
  return out;
}

/** The peer's decode of each file, median ms over `runs`, in one Python process. */
function peerDecodeMs(files: string[], runs: number): number[] {
  const script = `
import sys, time, json
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'src/training/python'))})
import data
runs = int(sys.argv[1]); out = []
for f in sys.argv[2:]:
    b = open(f, 'rb').read(); data.decode_gray01(b); t = []
    for _ in range(runs):
        s = time.perf_counter(); data.decode_gray01(b); t.append((time.perf_counter() - s) * 1000)
    t.sort(); out.append(t[len(t) // 2])
print(json.dumps(out))`;
  return JSON.parse(execFileSync(PYTHON, ['-c', script, String(runs), ...files]).toString()) as number[];
}

function timeMs(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function main(): Promise<void> {
  const runs = Math.max(3, Number(process.argv[2] ?? 9));
  const dir = mkdtempSync(path.join(tmpdir(), 'cc-decode-targets-'));
  try {
    const pgm = path.join(dir, 'film.pgm');
    writeFileSync(pgm, await pgm16(FILM));
    // gdcmimg writes a PGM's big-endian samples as GE's implicit big-endian syntax; gdcmconv makes it
    // the explicit little-endian file a modality sends.
    const ge = path.join(dir, 'ge.dcm');
    execFileSync('gdcmimg', ['-i', pgm, '-o', ge, '-C', '1.2.840.10008.5.1.4.1.1.1']);
    const raw = path.join(dir, 'raw.dcm');
    execFileSync('gdcmconv', ['--raw', '--explicit', ge, raw]);
    const files: Record<string, string> = { 'uncompressed (explicit LE)': raw };
    for (const [name, flag] of [
      ['RLE', '--rle'],
      ['JPEG-LS lossless', '--jpegls'],
      ['JPEG 2000 lossless', '--j2k'],
    ] as const) {
      const out = path.join(dir, `${flag.slice(2)}.dcm`);
      execFileSync('gdcmconv', [flag, raw, out]);
      files[name] = out;
    }
    await warmUpCodecs();
    const small = await smallFilms(dir);
    const smallRuns = runs * 50;
    const peerMs = peerDecodeMs(Object.values(small), smallRuns);
    const smallRows = [];
    for (const [i, [name, file]] of Object.entries(small).entries()) {
      const buf = readFileSync(file);
      for (let k = 0; k < 20; k++) await decodeImage(buf, LIMITS);
      const ours: number[] = [];
      for (let k = 0; k < smallRuns; k++) {
        const t = performance.now();
        await decodeImage(buf, LIMITS);
        ours.push(performance.now() - t);
      }
      smallRows.push({
        name,
        bytes: buf.length,
        oursMedianMs: r2(median(ours)),
        oursP90Ms: r2(quantile(ours, 0.9)),
        peerMedianMs: r2(peerMs[i]!),
        oursVsPeer: r2(median(ours) / peerMs[i]!),
      });
    }
    const out = path.join(dir, 'out.dcm');
    const gdcm = (file: string) => timeMs(() => execFileSync('gdcmconv', ['--raw', file, out]));
    const gdcmBase: number[] = [];
    for (let i = 0; i < runs; i++) gdcmBase.push(gdcm(raw));
    const base = median(gdcmBase);
    const mp = (SIZE * SIZE) / 1e6;
    const rows = [];
    for (const [name, file] of Object.entries(files)) {
      const buf = readFileSync(file);
      const first = await decodeImage(buf, LIMITS);
      const ours: number[] = [];
      const theirs: number[] = [];
      // Alternating, so both arms see the same minutes of a shared machine.
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await decodeImage(buf, LIMITS);
        ours.push(performance.now() - t);
        theirs.push(gdcm(file));
      }
      const oursMs = median(ours);
      const gdcmMs = Math.max(0, median(theirs) - base);
      rows.push({
        name,
        transferSyntaxUid: first.transferSyntaxUid ?? null,
        size: `${first.width}x${first.height}`,
        bitsStored: first.bitsStored,
        bytes: buf.length,
        oursMedianMs: r2(oursMs),
        oursP90Ms: r2(quantile(ours, 0.9)),
        oursMsPerMegapixel: r2(oursMs / mp),
        gdcmDecodeMs: r2(gdcmMs),
        gdcmMsPerMegapixel: r2(gdcmMs / mp),
        gdcmProcessMedianMs: r2(median(theirs)),
        oursVsGdcm: gdcmMs > 0 ? r2(oursMs / gdcmMs) : null,
      });
    }
    const result = {
      node: process.version,
      gdcm: execFileSync('gdcmconv', ['--version']).toString().trim(),
      runs,
      megapixels: r2(mp),
      gdcmProcessBaselineMs: r2(base),
      small: { runs: smallRuns, peer: 'data.decode_gray01 (PIL), one Python process', results: smallRows },
      results: rows,
    };
    writeFileSync(
      path.join(ROOT, 'bench/results/decode-targets.json'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    console.log('| small film | ours ms (p90) | peer (PIL) ms | ours / peer |');
    console.log('|---|---|---|---|');
    for (const r of smallRows)
      console.log(`| ${r.name} | ${r.oursMedianMs} (${r.oursP90Ms}) | ${r.peerMedianMs} | ${r.oursVsPeer} |`);
    console.log('| encoding | ours ms (p90) | ours ms/MP | GDCM ms | GDCM ms/MP | ours / GDCM |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows)
      console.log(
        `| ${r.name} | ${r.oursMedianMs} (${r.oursP90Ms}) | ${r.oursMsPerMegapixel} | ${r.gdcmDecodeMs} | ${r.gdcmMsPerMegapixel} | ${r.oursVsGdcm ?? '—'} |`,
      );
    console.log(`GDCM process baseline (gdcmconv --raw of the uncompressed file): ${r2(base)} ms`);
    console.log('wrote bench/results/decode-targets.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
