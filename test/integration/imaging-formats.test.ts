/**
 * PNG (8/16-bit), JPEG and DICOM decoding on real files, display mapping (MONOCHROME1, VOI window),
 * and every ImageError code from a real or generated file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ImageError } from '../../src/errors/image-errors';
import { decodeImage, detectFormat, displayRange, pixelStats } from '../../src/imaging';
import * as dicomParser from 'dicom-parser';
import { decodeJpeg2000 } from '../../src/imaging/codecs/wasm-codecs';
import { COLOUR_CHROMA_LIMIT } from '../../src/inference/radiograph-reader';
import { seededRandom } from '../../src/shared/random';
import { decodeDicomStored } from '../../src/imaging/dicom/dicom.decoder';
import { datasetDir, datasetPath } from '../support/shared-data';
import { compare, dicomPath, referencePngGray, skip } from './imaging.support';

const LIMITS = { maxBytes: 256 * 1024 * 1024, maxPixels: 50_000_000 };
// Folders of the shared data when present, else their few committed fixtures (see test/fixtures/README.md).
const WRIST = datasetDir('wrist_grazpedwri_metadata/sample_images');
const CHEST = datasetDir('chest/tbx11k/images', 'chest/kermany/test/NORMAL');
const KERMANY = datasetDir('chest/kermany/test/NORMAL');
const PHOTOS = datasetDir('ood/opencv', 'ood/coral');
const dcm = dicomPath;

function read(file: string): Buffer | undefined {
  return existsSync(file) ? readFileSync(file) : undefined;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    return (e as ImageError).code;
  }
  return 'DECODED';
}

describe('PNG', () => {
  const sixteen = existsSync(WRIST) ? readdirSync(WRIST).filter((f) => /^\d.*\.png$/.test(f)) : [];

  it.each(sixteen.length > 0 ? sixteen : ['(none)'])(
    '16-bit grayscale %s keeps all 16 bits, bit-exact',
    async (name) => {
      if (name === '(none)') return void skip(`no GRAZPEDWRI sample PNGs under ${WRIST}`);
      const buf = readFileSync(path.join(WRIST, name));
      const img = await decodeImage(buf, LIMITS);
      const ref = referencePngGray(buf);
      expect(ref.depth).toBe(16);
      expect([img.format, img.width, img.height, img.bitsStored, img.photometric, img.invert]).toEqual([
        'PNG',
        ref.width,
        ref.height,
        16,
        'MONOCHROME2',
        false,
      ]);
      expect(compare(img.pixels, ref.samples).maxAbs).toBe(0);
      expect(pixelStats(img).max).toBeGreaterThan(255);
      const d = displayRange(img);
      expect(d[0]).toBeCloseTo(img.pixels[0]! / 65535, 6);
    },
  );

  it('8-bit grayscale PNG decodes bit-exactly', async () => {
    const buf = read(datasetPath('ood/opencv/basketball1.png'));
    if (!buf) return void skip('ood/opencv/basketball1.png is missing');
    const img = await decodeImage(buf, LIMITS);
    const ref = referencePngGray(buf);
    expect([img.bitsStored, img.photometric, img.width, img.height]).toEqual([
      8,
      'MONOCHROME2',
      ref.width,
      ref.height,
    ]);
    expect(compare(img.pixels, ref.samples).maxAbs).toBe(0);
  });

  it('8-bit RGB PNG is reduced to luminance and reports RGB', async () => {
    const file = existsSync(WRIST) ? readdirSync(WRIST).find((f) => f.startsWith('pred_overlay')) : undefined;
    if (!file) return void skip('no RGB overlay PNG in the wrist samples');
    const img = await decodeImage(readFileSync(path.join(WRIST, file)), LIMITS);
    expect([img.photometric, img.bitsStored]).toEqual(['RGB', 8]);
    expect(img.pixels.length).toBe(img.width * img.height);
    expect(pixelStats(img).max).toBeLessThanOrEqual(255);
  });

  it('a generated 16-bit ramp survives the round trip exactly', async () => {
    const w = 256;
    const h = 4;
    const raw = new Uint16Array(w * h).map((_, i) => (i * 257) % 65536);
    const png = await sharp(raw, { raw: { width: w, height: h, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    const img = await decodeImage(png, LIMITS);
    expect(img.bitsStored).toBe(16);
    expect(Array.from(img.pixels)).toEqual(Array.from(raw));
  });
});

describe('JPEG', () => {
  const files = existsSync(CHEST)
    ? readdirSync(CHEST)
        .filter((f) => /\.jpe?g$/.test(f))
        .sort()
        .slice(0, 3)
    : [];

  it.each(files.length > 0 ? files : ['(none)'])(
    'chest %s decodes to 8-bit luminance matching libjpeg-turbo',
    async (name) => {
      if (name === '(none)') return void skip(`no chest JPEGs under ${CHEST}`);
      const buf = readFileSync(path.join(CHEST, name));
      const img = await decodeImage(buf, LIMITS);
      expect([img.format, img.bitsStored, img.invert]).toEqual(['JPEG', 8, false]);
      // Reference: the libjpeg-turbo WASM build (a different build of the library libvips uses).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const codec = await require('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')();
      const d = new codec.JPEGDecoder();
      d.getEncodedBuffer(buf.length).set(buf);
      d.decode();
      const info = d.getFrameInfo();
      const ref = d.getDecodedBuffer().slice();
      d.delete();
      expect([img.width, img.height]).toEqual([info.width, info.height]);
      if (info.componentCount === 1) {
        const c = compare(img.pixels, ref);
        expect(c.meanAbs).toBeLessThanOrEqual(0.5);
        expect(c.maxAbs).toBeLessThanOrEqual(4);
      }
    },
  );
  it('a standalone 12-bit JPEG keeps 12 bits (the RG2_JPLY stream outside its DICOM wrapper)', async () => {
    const buf = read(dcm('real_radiographs/CR_hip_MONO2_jpeg_extended_12bit_RG2_JPLY.dcm'));
    if (!buf) return void skip('RG2_JPLY is missing');
    const ds = dicomParser.parseDicom(buf);
    const el = ds.elements['x7fe00010']!;
    const jpeg = Buffer.from(
      dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, el.fragments!.length),
    );
    expect(detectFormat(jpeg)).toBe('JPEG');
    const img = await decodeImage(jpeg, LIMITS);
    const { stored } = await decodeDicomStored(buf, LIMITS);
    expect([img.format, img.bitsStored, img.width, img.height]).toEqual(['JPEG', 12, 1760, 2140]);
    expect(compare(img.pixels, stored).maxAbs).toBe(0);
  });
});

describe('colour and grey files read in one decode call', () => {
  /** What libvips' own conversions give: `b-w` luminance, and chroma on a 64×64 linear resize. */
  async function libvipsReference(buf: Buffer): Promise<{ grey: Buffer; chroma: number }> {
    const grey = await sharp(buf).removeAlpha().toColourspace('b-w').raw().toBuffer();
    const { data, info } = await sharp(buf)
      .removeAlpha()
      .resize(64, 64, { fit: 'fill', kernel: 'linear' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    let sum = 0;
    for (let i = 0; i < 64 * 64; i++) {
      const [r, g, b] = [0, 1, 2].map((k) => data[i * info.channels + k]!);
      sum += Math.abs(r! - g!) + Math.abs(g! - b!);
    }
    return { grey, chroma: sum / 4096 };
  }
  const files = (dir: string, n: number) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /\.(jpe?g|png)$/i.test(f))
          .sort()
          .slice(0, n)
          .map((f) => path.join(dir, f))
      : [];

  it('colour photos: luminance within one grey level of libvips, chroma within 5% and on the same side of the limit', async () => {
    const photos = files(PHOTOS, 12);
    if (photos.length === 0) return void skip(`no photos under ${PHOTOS}`);
    let colour = 0;
    for (const file of photos) {
      const buf = readFileSync(file);
      const meta = await sharp(buf).metadata();
      if ((meta.channels ?? 1) < 3) continue;
      colour++;
      const img = await decodeImage(buf, LIMITS);
      const ref = await libvipsReference(buf);
      expect(img.photometric).toBe('RGB');
      expect(compare(img.pixels, ref.grey).maxAbs).toBeLessThanOrEqual(1);
      // a box average against libvips' linear kernel: a few percent apart, never across the limit
      expect(Math.abs(img.chroma! - ref.chroma)).toBeLessThan(Math.max(1, 0.05 * ref.chroma));
      expect(img.chroma! > COLOUR_CHROMA_LIMIT).toBe(ref.chroma > COLOUR_CHROMA_LIMIT);
    }
    expect(colour).toBeGreaterThan(0);
  });

  it('grey radiographs stored as RGB JPEG: the grey exactly, chroma 0', async () => {
    const films = files(KERMANY, 8);
    if (films.length === 0) return void skip(`no chest JPEGs under ${KERMANY}`);
    for (const file of films) {
      const buf = readFileSync(file);
      const img = await decodeImage(buf, LIMITS);
      const ref = await libvipsReference(buf);
      expect(compare(img.pixels, ref.grey).maxAbs).toBe(0);
      expect(img.chroma).toBe(ref.chroma);
    }
  });

  it('grey JPEGs, small (WASM) and over a megapixel (sharp), sample for sample as libvips decodes them', async () => {
    for (const [w, h] of [
      [90, 70],
      [1100, 1000],
    ] as const) {
      const { data } = await sharp({ create: { width: w, height: h, channels: 3, background: '#000' } })
        .composite([
          {
            input: Buffer.from(
              `<svg width="${w}" height="${h}"><circle cx="${w / 2}" cy="${h / 3}" r="${h / 4}" fill="#ccc"/></svg>`,
            ),
          },
        ])
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (const progressive of [false, true]) {
        const buf = await sharp(data, { raw: { width: w, height: h, channels: 3 } })
          .toColourspace('b-w')
          .jpeg({ quality: 80, progressive })
          .toBuffer();
        expect((await sharp(buf).metadata()).channels).toBe(1);
        const img = await decodeImage(buf, LIMITS);
        const ref = await sharp(buf).toColourspace('b-w').raw().toBuffer();
        expect([img.photometric, img.width, img.height]).toEqual(['MONOCHROME2', w, h]);
        expect(compare(img.pixels, ref).maxAbs).toBe(0);
        // cut short: refused as sharp refuses it, whichever decoder read it first
        expect(await codeOf(decodeImage(buf.subarray(0, buf.length >> 1), LIMITS))).toBe('CORRUPT_IMAGE');
      }
    }
  });

  it('small PNGs (read in this thread) sample for sample as libvips reads them; damaged ones refused as it refuses them', async () => {
    const w = 97;
    const h = 61;
    const grey = Buffer.alloc(w * h);
    const rgb = Buffer.alloc(w * h * 3);
    const grey16 = Buffer.alloc(w * h * 2);
    for (let i = 0; i < w * h; i++) {
      const [x, y] = [i % w, Math.floor(i / w)];
      grey[i] = (x * 5 + y * 3 + ((x * y) % 7)) & 255;
      rgb.set([(x * 9) & 255, (y * 7) & 255, ((x + y) * 3) & 255], i * 3);
      grey16.writeUInt16LE((x * 641 + y * 211 + ((x * y) % 13)) & 0xffff, i * 2);
    }
    const made = {
      grey: await sharp(grey, { raw: { width: w, height: h, channels: 1 } })
        .png({ adaptiveFiltering: true })
        .toBuffer(),
      rgb: await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
        .png({ adaptiveFiltering: true })
        .toBuffer(),
      rgba: await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
        .ensureAlpha(0.3)
        .png()
        .toBuffer(),
      greyAlpha: await sharp(grey, { raw: { width: w, height: h, channels: 1 } })
        .ensureAlpha(0.3)
        .png()
        .toBuffer(),
      grey16: await sharp(grey16, { raw: { width: w, height: h, channels: 1 } })
        .toColourspace('grey16')
        .png()
        .toBuffer(),
      interlaced: await sharp(grey, { raw: { width: w, height: h, channels: 1 } })
        .png({ progressive: true })
        .toBuffer(),
    };
    for (const [name, buf] of Object.entries(made)) {
      const img = await decodeImage(buf, LIMITS);
      const sixteen = name === 'grey16';
      const ref = await sharp(buf)
        .removeAlpha()
        .toColourspace(sixteen ? 'grey16' : 'b-w')
        .raw({ depth: sixteen ? 'ushort' : 'uchar' })
        .toBuffer();
      const samples = sixteen ? new Uint16Array(ref.buffer, ref.byteOffset, ref.length / 2) : ref;
      expect([name, img.width, img.height, img.bitsStored]).toEqual([name, w, h, sixteen ? 16 : 8]);
      // colour: libvips' luminance to within one grey level; grey: exactly
      expect([name, compare(img.pixels, samples).maxAbs <= (name.startsWith('rgb') ? 1 : 0)]).toEqual([
        name,
        true,
      ]);
    }
    const png = made.grey;
    const crcBroken = Buffer.from(png);
    crcBroken[40] ^= 0xff; // inside the first IDAT (its CRC no longer matches)
    for (const damaged of [png.subarray(0, png.length - 30), crcBroken]) {
      const libvips = await sharp(damaged, { failOn: 'warning' })
        .raw()
        .toBuffer()
        .then(() => 'DECODED')
        .catch(() => 'CORRUPT_IMAGE');
      expect(await codeOf(decodeImage(damaged, LIMITS))).toBe(libvips);
    }
    expect(await codeOf(decodeImage(png.subarray(0, png.length - 30), LIMITS))).toBe('CORRUPT_IMAGE');
  });

  it('damaged small films: what libvips refuses is refused, whichever decoder read it first', async () => {
    const rnd = seededRandom(20261207);
    const int = (n: number) => Math.floor(rnd() * n);
    const film = readFileSync(path.join(KERMANY, readdirSync(KERMANY).filter((f) => /\.jpe?g$/.test(f))[0]!));
    const { data, info } = await sharp(film).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    const png = await sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } })
      .png()
      .toBuffer();
    let refusedByLibvips = 0;
    for (const [k, src] of [film, png, film, png].entries())
      for (let t = 0; t < 60; t++) {
        const b = Buffer.from(src);
        let bytes: Buffer = b;
        if (t % 3 === 0) bytes = b.subarray(0, int(b.length));
        else if (t % 3 === 1) for (let f = 1 + int(6); f > 0; f--) b[int(b.length)] ^= 1 << int(8);
        else b.fill(int(256), int(b.length), Math.min(b.length, int(b.length) + 1 + int(48)));
        const libvips = await sharp(bytes, { failOn: 'warning' })
          .raw()
          .toBuffer()
          .then(() => 'DECODED')
          .catch(() => 'REFUSED');
        if (libvips === 'DECODED') continue;
        refusedByLibvips++;
        const ours = await codeOf(decodeImage(bytes, LIMITS));
        expect([k, t, ours === 'DECODED' ? 'accepted what libvips refuses' : 'refused']).toEqual([
          k,
          t,
          'refused',
        ]);
      }
    expect(refusedByLibvips).toBeGreaterThan(100);
  });

  it('alpha is dropped, CMYK JPEG and palette PNG take the general path, each as libvips reads it', async () => {
    const { data } = await sharp({
      create: { width: 90, height: 70, channels: 3, background: { r: 10, g: 200, b: 90 } },
    })
      .composite([
        { input: { create: { width: 30, height: 30, channels: 3, background: '#fff' } }, top: 5, left: 7 },
      ])
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: 90, height: 70, channels: 3 as const } };
    const made = [
      await sharp(data, raw).ensureAlpha(0.5).png().toBuffer(),
      await sharp(data, raw).toColourspace('b-w').ensureAlpha(0.5).png().toBuffer(),
      await sharp(data, raw).png({ palette: true }).toBuffer(),
      await sharp(data, raw).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(),
      // an ICC profile: sharp converts to sRGB through it, so such a JPEG is not decoded in WASM
      await sharp(data, raw).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer(),
    ];
    for (const buf of made) {
      const img = await decodeImage(buf, LIMITS);
      const ref = await libvipsReference(buf);
      expect([img.width, img.height]).toEqual([90, 70]);
      expect(compare(img.pixels, ref.grey).maxAbs).toBeLessThanOrEqual(1);
      if (img.chroma !== undefined) expect(Math.abs(img.chroma - ref.chroma)).toBeLessThan(0.05 * ref.chroma);
    }
  });
});

describe('DICOM interpretation', () => {
  it('MONOCHROME1 is flagged and inverted by displayRange', async () => {
    const buf = read(dcm('real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm'));
    if (!buf) return void skip('CR-MONO1-10-chest is missing');
    const img = await decodeImage(buf, LIMITS);
    expect([img.photometric, img.invert, img.transferSyntaxUid]).toEqual([
      'MONOCHROME1',
      true,
      '1.2.840.10008.1.2',
    ]);
    expect(img.voi).toEqual({ center: 550, width: 1024 });
    const d = displayRange(img);
    const lo = img.pixels.indexOf(pixelStats(img).min);
    const hi = img.pixels.indexOf(pixelStats(img).max);
    expect(d[lo]!).toBeGreaterThan(d[hi]!);
    expect(d[lo]).toBeCloseTo(1, 6);
  });

  it('applies the VOI window (centre/width) from the file', async () => {
    const buf = read(dcm('pydicom_debian_test_files/MR_small.dcm'));
    if (!buf) return void skip('MR_small.dcm is missing');
    const img = await decodeImage(buf, LIMITS);
    expect(img.voi).toEqual({ center: 600, width: 1600 });
    const d = displayRange(img);
    for (let i = 0; i < img.pixels.length; i++) {
      const expected = Math.min(1, Math.max(0, (img.pixels[i]! - (600 - 0.5 - 799.5)) / 1599));
      expect(Math.abs(d[i]! - expected)).toBeLessThan(1e-5);
    }
  });

  it('applies Rescale Slope/Intercept (CT in HU)', async () => {
    const a = read(dcm('pydicom_data_extra/693_UNCR.dcm'));
    if (!a) return void skip('693_UNCR.dcm is missing');
    const img = await decodeImage(a, LIMITS);
    expect(img.dicom?.rescaleIntercept).toBe(-1024);
    expect(pixelStats(img).min).toBe(-3024);
  });

  it('applies the Modality LUT Sequence instead of rescale', async () => {
    const buf = read(dcm('real_radiographs/CR_MONO1_jpeg_lossless_ModalitySequenceLUT.dcm'));
    if (!buf) return void skip('ModalitySequenceLUT file is missing');
    const { header, stored } = await decodeDicomStored(buf, LIMITS);
    const lut = header.modalityLut!;
    expect(lut).toBeDefined();
    const img = await decodeImage(buf, LIMITS);
    for (let i = 0; i < stored.length; i += 997) {
      const idx = Math.min(Math.max(stored[i]! - lut.firstMapped, 0), lut.data.length - 1);
      expect(img.pixels[i]).toBe(lut.data[idx]);
    }
    expect(Array.from(new Set(stored)).length).toBeGreaterThan(10);
  });

  it('reads big endian, implicit, deflated and preamble-less data sets identically', async () => {
    const names = [
      'MR_small.dcm',
      'MR_small_bigendian.dcm',
      'MR_small_implicit.dcm',
      'MR_small_RLE.dcm',
      'MR_small_jpeg_ls_lossless.dcm',
      'MR_small_jp2klossless.dcm',
    ];
    const files = names.map((n) => read(dcm(`pydicom_debian_test_files/${n}`)));
    if (files.some((f) => !f)) return void skip('MR_small variants are missing');
    const base = await decodeImage(files[0]!, LIMITS);
    for (const f of files.slice(1))
      expect(Array.from((await decodeImage(f!, LIMITS)).pixels)).toEqual(Array.from(base.pixels));
    const dfl = read(dcm('pydicom_debian_test_files/image_dfl.dcm'));
    if (dfl) expect((await decodeImage(dfl, LIMITS)).transferSyntaxUid).toBe('1.2.840.10008.1.2.1.99');
    const noMeta = read(dcm('real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm'));
    if (noMeta) expect(detectFormat(noMeta)).toBe('DICOM');
  });

  it('routes HTJ2K to OpenJPEG (codec level: the only samples are colour, which the DICOM path refuses)', async () => {
    const buf = read(dcm('pydicom_data_extra/HTJ2KLossless_08_RGB.dcm'));
    if (!buf) return void skip('HTJ2KLossless_08_RGB.dcm is missing');
    const ds = dicomParser.parseDicom(buf);
    const el = ds.elements['x7fe00010']!;
    const frame = dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, el.fragments!.length);
    const out = await decodeJpeg2000(new Uint8Array(frame));
    expect([out.width, out.height, out.components, out.bitsPerSample]).toEqual([640, 480, 3, 8]);
    expect(await codeOf(decodeImage(buf, LIMITS))).toBe('UNSUPPORTED_IMAGE');
  });

  it('returns identifiers separately from attributes', async () => {
    const buf = read(dcm('pydicom_debian_test_files/CT_small.dcm'));
    if (!buf) return void skip('CT_small.dcm is missing');
    const img = await decodeImage(buf, LIMITS);
    expect(img.identifiers?.patientName).toBeDefined();
    expect(JSON.stringify(img.dicom)).not.toContain(img.identifiers!.patientName!);
  });
});

/** Minimal PNG whose IHDR claims `w`×`h` with a valid CRC and a tiny IDAT: a header-only bomb. */
function pngClaiming(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer): number => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const idat = require('node:zlib').deflateSync(Buffer.alloc(64 * 1024));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Overwrites the value of a US element (explicit VR LE) found by its tag bytes. */
function setUs(buf: Buffer, group: number, element: number, value: number): Buffer {
  const out = Buffer.from(buf);
  const tag = Buffer.from([group & 0xff, group >> 8, element & 0xff, element >> 8, 0x55, 0x53]);
  const at = out.indexOf(tag, 132);
  if (at < 0) throw new Error('tag not found');
  out.writeUInt16LE(value, at + 8);
  return out;
}

describe('error codes', () => {
  it('EMPTY_UPLOAD for zero bytes', async () => {
    expect(await codeOf(decodeImage(new Uint8Array(0), LIMITS))).toBe('EMPTY_UPLOAD');
  });

  it('UPLOAD_TOO_LARGE above maxBytes, before looking at the content', async () => {
    expect(await codeOf(decodeImage(new Uint8Array(2048), { maxBytes: 1024, maxPixels: 1e6 }))).toBe(
      'UPLOAD_TOO_LARGE',
    );
  });

  it('UNSUPPORTED_MEDIA_TYPE for unknown bytes', async () => {
    expect(await codeOf(decodeImage(Buffer.from('%PDF-1.7 not an image at all, just text'), LIMITS))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(await codeOf(decodeImage(Buffer.from('GIF89a\x01\x00\x01\x00'), LIMITS))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('CORRUPT_IMAGE for the truncated J2K stream in known_bad/', async () => {
    const buf = read(dcm('known_bad/CR_chest_RG1_J2KI_truncated_j2k_stream.dcm'));
    if (!buf) return void skip('known_bad file is missing');
    expect(await codeOf(decodeImage(buf, LIMITS))).toBe('CORRUPT_IMAGE');
  });

  it('CORRUPT_IMAGE for truncated PNG, JPEG and DICOM', async () => {
    const png = existsSync(WRIST) ? readdirSync(WRIST).find((f) => /^\d.*\.png$/.test(f)) : undefined;
    const jpg = existsSync(CHEST) ? readdirSync(CHEST).find((f) => /\.jpe?g$/.test(f)) : undefined;
    const mr = read(dcm('pydicom_debian_test_files/MR_small.dcm'));
    if (!png || !jpg || !mr) return void skip('sample files are missing');
    const p = readFileSync(path.join(WRIST, png));
    const j = readFileSync(path.join(CHEST, jpg));
    expect(await codeOf(decodeImage(p.subarray(0, p.length >> 1), LIMITS))).toBe('CORRUPT_IMAGE');
    expect(await codeOf(decodeImage(j.subarray(0, j.length >> 1), LIMITS))).toBe('CORRUPT_IMAGE');
    expect(await codeOf(decodeImage(mr.subarray(0, mr.length - 100), LIMITS))).toBe('CORRUPT_IMAGE');
  });

  it('UNSUPPORTED_TRANSFER_SYNTAX for a syntax without a decoder', async () => {
    const buf = read(dcm('real_radiographs/CR_hip_MONO2_jpegls_lossless_RG2_JLSL.dcm'));
    if (!buf) return void skip('RG2_JLSL is missing');
    const uid = Buffer.from('1.2.840.10008.1.2.4.80');
    const mutated = Buffer.from(buf);
    const at = mutated.indexOf(uid);
    Buffer.from('1.2.840.10008.1.2.4.99').copy(mutated, at);
    expect(await codeOf(decodeImage(mutated, LIMITS))).toBe('UNSUPPORTED_TRANSFER_SYNTAX');
  });

  it('NOT_AN_IMAGE for SR and RT objects', async () => {
    for (const n of ['test-SR.dcm', 'rtplan.dcm', 'rtstruct.dcm']) {
      const buf = read(dcm(`pydicom_debian_test_files/${n}`));
      if (!buf) return void skip(`${n} is missing`);
      expect(await codeOf(decodeImage(buf, LIMITS))).toBe('NOT_AN_IMAGE');
    }
  });

  it('MULTI_FRAME_NOT_SUPPORTED for multi-frame objects', async () => {
    const buf = read(dcm('pydicom_data_extra/emri_small_RLE.dcm'));
    if (!buf) return void skip('emri_small_RLE.dcm is missing');
    expect(await codeOf(decodeImage(buf, LIMITS))).toBe('MULTI_FRAME_NOT_SUPPORTED');
  });

  it('UNSUPPORTED_IMAGE for colour DICOM (refused, not reduced)', async () => {
    const buf = read(dcm('pydicom_data_extra/US1_UNCR.dcm'));
    if (!buf) return void skip('US1_UNCR.dcm is missing');
    expect(await codeOf(decodeImage(buf, LIMITS))).toBe('UNSUPPORTED_IMAGE');
  });

  it('IMAGE_TOO_LARGE from the DICOM header, before any decompression', async () => {
    const buf = read(dcm('real_radiographs/DX_chest_MONO1_j2k_lossless_966_fixed.dcm'));
    if (!buf) return void skip('966_fixed is missing');
    expect(await codeOf(decodeImage(buf, { maxBytes: LIMITS.maxBytes, maxPixels: 1_000_000 }))).toBe(
      'IMAGE_TOO_LARGE',
    );
    // Rows/Columns claim 65535² and the pixel data is cut off: only a header check can answer IMAGE_TOO_LARGE.
    let bomb = setUs(buf, 0x0028, 0x0010, 65535);
    bomb = setUs(bomb, 0x0028, 0x0011, 65535);
    const pixelTag = bomb.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]), 132);
    expect(await codeOf(decodeImage(bomb.subarray(0, pixelTag + 64), LIMITS))).toBe('IMAGE_TOO_LARGE');
  });

  it('IMAGE_TOO_LARGE for a PNG decompression bomb, refused from its header', async () => {
    expect(await codeOf(decodeImage(pngClaiming(100_000, 100_000), LIMITS))).toBe('IMAGE_TOO_LARGE');
    expect(
      await codeOf(decodeImage(pngClaiming(2000, 2000), { maxBytes: LIMITS.maxBytes, maxPixels: 1_000_000 })),
    ).toBe('IMAGE_TOO_LARGE');
  });
});
