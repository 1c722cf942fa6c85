import { CodecError } from './codec-error';
import { decodeRle } from './rle.decoder';

/** Builds an RLE frame from PackBits segments. */
function frame(segments: number[][]): Uint8Array {
  const header = new Uint8Array(64);
  const view = new DataView(header.buffer);
  view.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((s, i) => {
    view.setUint32(4 + 4 * i, offset, true);
    offset += s.length;
  });
  return Uint8Array.from([...header, ...segments.flat()]);
}

describe('decodeRle', () => {
  it('decodes literal and replicate runs of an 8-bit frame', () => {
    // literal 3 bytes (n=2), then replicate 0x09 three times (n=257-3=254)
    const out = decodeRle(frame([[2, 1, 2, 3, 254, 9]]), 3, 2, 1, 1);
    expect(Array.from(out)).toEqual([1, 2, 3, 9, 9, 9]);
  });

  it('interleaves the high- and low-byte segments of 16-bit samples little-endian', () => {
    const out = decodeRle(
      frame([
        [1, 0x12, 0xab],
        [1, 0x34, 0xcd],
      ]),
      2,
      1,
      1,
      2,
    );
    expect(Array.from(new Uint16Array(out.buffer))).toEqual([0x1234, 0xabcd]);
  });

  it('ignores the no-op byte 128', () => {
    expect(Array.from(decodeRle(frame([[128, 0, 7]]), 1, 1, 1, 1))).toEqual([7]);
  });

  it('refuses a wrong segment count, short segments and overruns', () => {
    expect(() => decodeRle(frame([[0, 1]]), 1, 1, 1, 2)).toThrow(CodecError);
    expect(() => decodeRle(frame([[0, 1]]), 2, 1, 1, 1)).toThrow(CodecError);
    expect(() => decodeRle(frame([[5, 1]]), 6, 1, 1, 1)).toThrow(CodecError);
    expect(() => decodeRle(new Uint8Array(10), 1, 1, 1, 1)).toThrow(CodecError);
  });
});
