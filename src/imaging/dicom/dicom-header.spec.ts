import { deflateRawSync } from 'node:zlib';
import { parseDicomDataSet } from './dicom-header';
import { el, encodeDataset, fileMetaInformation } from './dicom-writer';

const DEFLATED = '1.2.840.10008.1.2.1.99';
const CR = '1.2.840.10008.5.1.4.1.1.1';
const SIZE = 256;

/** A deflated 256 × 256 8-bit CR image of zeros whose identifiers (and so its deflate stream) vary with `n`. */
function deflated(n: number): { file: Buffer; streamStart: number } {
  const uid = (k: number) => `2.25.${(BigInt(n * 977 + k) * 0x9e3779b97f4a7c15n) % 10n ** 38n}`;
  const sop = uid(1);
  const dataSet = encodeDataset([
    el(0x00080016, 'UI', CR),
    el(0x00080018, 'UI', sop),
    el(0x00080060, 'CS', 'CR'),
    el(0x00100010, 'PN', 'Bomb^Test'),
    el(0x00100020, 'LO', `BOMB-${(n * 2654435761).toString(16).slice(-8)}`),
    el(0x00180015, 'CS', 'CHEST'),
    el(0x00185101, 'CS', 'PA'),
    el(0x0020000d, 'UI', uid(2)),
    el(0x0020000e, 'UI', uid(3)),
    el(0x00280002, 'US', [1]),
    el(0x00280004, 'CS', 'MONOCHROME2'),
    el(0x00280010, 'US', [SIZE]),
    el(0x00280011, 'US', [SIZE]),
    el(0x00280100, 'US', [8]),
    el(0x00280101, 'US', [8]),
    el(0x00280102, 'US', [7]),
    el(0x00280103, 'US', [0]),
    el(0x7fe00010, 'OB', Buffer.alloc(SIZE * SIZE)),
  ]);
  const head = Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    fileMetaInformation(CR, sop, DEFLATED),
  ]);
  return { file: Buffer.concat([head, deflateRawSync(dataSet, { level: 9 })]), streamStart: head.length };
}

describe('parseDicomDataSet, deflated data sets', () => {
  // Regression: dicom-parser read the element after the File Meta Information in full before looking
  // at its tag. When the deflate stream's bytes 4-5 happened to spell "SQ" it read a sequence there
  // and a valid file was refused as CORRUPT_IMAGE (about 1 file in 30 of the decompression-bomb test,
  // whose UIDs are random: that test failed at random).
  it('reads every one of 400 valid files, including those whose deflate stream looks like a sequence', async () => {
    const looksLikeSequence: number[] = [];
    const unreadable: number[] = [];
    for (let n = 0; n < 400; n++) {
      const { file, streamStart } = deflated(n);
      if (file.toString('latin1', streamStart + 4, streamStart + 6) === 'SQ') looksLikeSequence.push(n);
      try {
        const { dataSet } = await parseDicomDataSet(file, 1_000_000);
        expect(dataSet.uint16('x00280010')).toBe(SIZE);
        expect(dataSet.elements.x7fe00010?.length).toBe(SIZE * SIZE);
      } catch {
        unreadable.push(n);
      }
    }
    // The files this regression is about are among them (zlib's output for these inputs is fixed).
    expect(looksLikeSequence.length).toBeGreaterThan(0);
    expect(unreadable).toEqual([]);
  });

  it('refuses a File Meta Information whose element runs past the end of the file', async () => {
    const { file } = deflated(1);
    await expect(parseDicomDataSet(file.subarray(0, 150), 1_000_000)).rejects.toMatchObject({
      code: 'CORRUPT_IMAGE',
    });
  });
});
