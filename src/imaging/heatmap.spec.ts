import sharp from 'sharp';
import { renderHeatmapPng } from './heatmap';

/** A 7×7 activation with one hot cell at (column 2, row 4). */
const grid = {
  width: 7,
  height: 7,
  data: Float32Array.from({ length: 49 }, (_, i) => (i === 4 * 7 + 2 ? 1 : i === 0 ? -3 : 0)),
};

async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [
    ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
  ];
  return { info, at };
}

describe('renderHeatmapPng', () => {
  const size = 224;
  // A horizontal ramp: dark on the left, bright on the right.
  const image = {
    width: size,
    height: size,
    data: Float32Array.from({ length: size * size }, (_, i) => (i % size) / size),
  };

  it('renders a size² RGB PNG with the hot cell red over the image and cold areas in the image grey', async () => {
    const { info, at } = await pixels(await renderHeatmapPng(image, grid, 256));
    expect([info.width, info.height, info.channels]).toEqual([256, 256, 3]);
    // Centre of cell (2, 4) at 256/7 px per cell.
    const [r, g, b] = at(Math.round(2.5 * (256 / 7)), Math.round(4.5 * (256 / 7)));
    // Jet at full activation is dark red (128, 0, 0), blended 55% over the grey image.
    expect(r! - b!).toBeGreaterThan(40);
    expect(r! - g!).toBeGreaterThan(40);
    // Far from it (and where the activation is negative: ReLU) the pixel is the image, grey, darker left.
    const left = at(250 - 240, 10);
    const right = at(250, 10);
    expect(new Set(left).size).toBe(1);
    expect(new Set(right).size).toBe(1);
    expect(left[0]).toBeLessThan(right[0]!);
  });

  it('renders at any requested size and refuses an image whose data does not match its size', async () => {
    const { info } = await pixels(await renderHeatmapPng(image, grid, 64));
    expect([info.width, info.height]).toEqual([64, 64]);
    await expect(
      renderHeatmapPng({ width: 10, height: 10, data: new Float32Array(5) }, grid),
    ).rejects.toThrow(RangeError);
  });
});
