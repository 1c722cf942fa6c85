import { decodeCam, encodeCam } from './stored-cam';

const context = {
  label: 'PNEUMONIA',
  imageId: '00000000-0000-4000-8000-000000000001',
  size: 224,
  preprocessing: 'gray-fill-bilinear-instnorm-v1' as const,
  aspect: 1.25,
};

describe('stored CAM', () => {
  it('keeps every float32 value of the grid exactly, in a few hundred bytes', () => {
    const data = Float32Array.from({ length: 49 }, (_, i) => Math.sin(i) * 10 ** (i % 7) - 3.5);
    const stored = encodeCam({ width: 7, height: 7, data }, context);
    expect(JSON.stringify(stored).length).toBeLessThan(600);
    const back = decodeCam(JSON.parse(JSON.stringify(stored)));
    expect(back.width).toBe(7);
    expect(back.height).toBe(7);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(stored).toMatchObject(context);
  });

  it('refuses a record whose data does not fill its grid', () => {
    const stored = encodeCam({ width: 2, height: 2, data: new Float32Array(4) }, context);
    expect(() => decodeCam({ ...stored, width: 3 })).toThrow(RangeError);
  });
});
