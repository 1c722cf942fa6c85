import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as dicomParser from 'dicom-parser';
import { requireOrSkip } from '../../../test/support/test-database';
import { decodeImage } from '../decode-image';
import { deidentifyDicom, remapUid } from './deidentify';

const SHARED = resolve(process.env.CARE_SHARED_DIR ?? join(__dirname, '..', '..', '..', '..', 'shared'));
const file = (p: string) => join(SHARED, 'datasets', 'dicom', p);
const LIMITS = { maxBytes: 1 << 30, maxPixels: 1e8 };

describe('deidentifyDicom (PS3.15 Basic Profile rewrite)', () => {
  it('remaps UIDs deterministically per key into the 2.25 form', () => {
    const a = remapUid('1.2.392.200036.9125.0.19950720112207', 'k1');
    expect(a).toMatch(/^2\.25\.\d{1,39}$/);
    expect(remapUid('1.2.392.200036.9125.0.19950720112207', 'k1')).toBe(a);
    expect(remapUid('1.2.392.200036.9125.0.19950720112207', 'k2')).not.toBe(a);
    expect(remapUid('1.2.392.200036.9125.0.19950720112208', 'k1')).not.toBe(a);
  });

  it('rewrites an Implicit VR film as Explicit VR LE with the same pixels and no identifiers', async () => {
    if (!requireOrSkip(existsSync(file('index.csv')), `shared DICOM files not found at ${file('')}`)) return;
    const src = readFileSync(file('real_radiographs/CR_chest_MONO1_uncompressed_CR-MONO1-10-chest.dcm'));
    const out = await deidentifyDicom(src, { uidKey: 'key', pseudonym: 'P-test' });
    expect(out.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    const ds = dicomParser.parseDicom(out.bytes);
    expect(ds.string('x00020010')).toBe('1.2.840.10008.1.2.1');
    expect(ds.string('x00100010')).toBe('P-test');
    expect(ds.string('x00120062')).toBe('YES');
    for (const tag of ['x00080080', 'x00080012', 'x00080022', 'x00081040'])
      expect(ds.elements[tag]).toBeUndefined();
    expect(ds.string('x00080050')).toBeUndefined(); // Accession Number: zero length
    const text = out.bytes.toString('latin1');
    for (const s of ['FUJI95714', '1995.07.20', '1993.02.24', '1.2.392.200036.9125.0.19950720112207'])
      expect(text).not.toContain(s);
    const [a, b] = await Promise.all([decodeImage(src, LIMITS), decodeImage(out.bytes, LIMITS)]);
    expect(b.width).toBe(a.width);
    expect(Buffer.from(b.pixels.buffer).equals(Buffer.from(a.pixels.buffer))).toBe(true);
    expect(b.voi).toEqual(a.voi);
    expect(b.invert).toBe(true);
  });
});
