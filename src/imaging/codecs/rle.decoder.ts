import { CodecError } from './codec-error';

/**
 * Decodes one DICOM RLE Lossless frame (PS3.5 Annex G) into interleaved little-endian samples.
 * Each byte plane is its own PackBits segment, most significant byte first; `samples` is
 * 1 for grayscale, `bytesPerSample` 1 or 2. Returns `width*height*samples*bytesPerSample` bytes.
 */
export function decodeRle(
  frame: Uint8Array,
  width: number,
  height: number,
  samples: number,
  bytesPerSample: number,
): Uint8Array {
  if (frame.length < 64) throw new CodecError('RLE header shorter than 64 bytes');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expectedSegments = samples * bytesPerSample;
  if (segments !== expectedSegments)
    throw new CodecError(`RLE has ${segments} segments, expected ${expectedSegments}`);
  const pixels = width * height;
  const out = new Uint8Array(pixels * expectedSegments);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > frame.length || end > frame.length || end < start)
      throw new CodecError('RLE segment offset out of range');
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const stride = expectedSegments;
    const base = sample * bytesPerSample + byteInSample;
    let o = 0;
    let i = start;
    while (o < pixels && i < end) {
      const n = frame[i++]!;
      if (n < 128) {
        const count = n + 1;
        if (i + count > end) throw new CodecError('RLE literal run overruns its segment');
        for (let k = 0; k < count && o < pixels; k++) out[base + stride * o++] = frame[i++]!;
        if (o >= pixels) break;
      } else if (n > 128) {
        if (i >= end) throw new CodecError('RLE replicate run overruns its segment');
        const v = frame[i++]!;
        const count = 257 - n;
        for (let k = 0; k < count && o < pixels; k++) out[base + stride * o++] = v;
      }
    }
    if (o < pixels) throw new CodecError('RLE segment ends before the frame is complete');
  }
  return out;
}
