import { detectFormat } from './detect-format';
import { transferSyntaxInfo, transferSyntaxName } from './dicom/transfer-syntax';

describe('detectFormat', () => {
  it('recognises PNG and JPEG magic bytes', () => {
    expect(detectFormat(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('PNG');
    expect(detectFormat(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('JPEG');
  });

  it('recognises DICM at offset 128', () => {
    const b = new Uint8Array(200);
    b.set([0x44, 0x49, 0x43, 0x4d], 128);
    expect(detectFormat(b)).toBe('DICOM');
  });

  it('recognises a preamble-less implicit VR data set', () => {
    // (0008,0005) length 10 "ISO_IR 100", then (0008,0016) length 2.
    const b = Uint8Array.from([
      8,
      0,
      5,
      0,
      10,
      0,
      0,
      0,
      ...Buffer.from('ISO_IR 100'),
      8,
      0,
      0x16,
      0,
      2,
      0,
      0,
      0,
      0x31,
      0,
    ]);
    expect(detectFormat(b)).toBe('DICOM');
  });

  it('recognises a preamble-less explicit VR data set', () => {
    const b = Uint8Array.from([8, 0, 5, 0, 0x43, 0x53, 10, 0, ...Buffer.from('ISO_IR 100')]);
    expect(detectFormat(b)).toBe('DICOM');
  });

  it('rejects anything else', () => {
    expect(detectFormat(Buffer.from('GIF89a......'))).toBeNull();
    expect(detectFormat(Buffer.from('hello world, not an image'))).toBeNull();
    expect(detectFormat(new Uint8Array(4))).toBeNull();
    expect(detectFormat(Uint8Array.from([8, 0, 5, 0, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]))).toBeNull();
  });
});

describe('transfer syntax table', () => {
  it('maps each supported syntax to its codec', () => {
    expect(transferSyntaxInfo('1.2.840.10008.1.2.4.51').codec).toBe('jpeg-extended');
    expect(transferSyntaxInfo('1.2.840.10008.1.2.5')).toMatchObject({ codec: 'rle', lossless: true });
    expect(transferSyntaxInfo('1.2.840.10008.1.2.4.100').codec).toBe('unsupported');
    expect(transferSyntaxName('1.2.840.10008.1.2.1')).toBe('Explicit VR Little Endian');
  });
});
