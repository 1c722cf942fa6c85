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

  it("keeps the film's proportions, names the finding and draws the colour scale", async () => {
    const png = await renderHeatmapPng(image, grid, { size: 256, aspect: 2, label: 'PNEUMONIA' });
    const { info, at } = await pixels(png);
    // 256 × 128 film area, a 22-px title band above and a 34-px scale band to the right.
    expect([info.width, info.height]).toEqual([256 + 34, 128 + 22]);
    // Title: light text on the dark band.
    let lit = 0;
    for (let x = 0; x < 200; x++) for (let y = 4; y < 18; y++) if (at(x, y)[0]! > 200) lit++;
    expect(lit).toBeGreaterThan(50);
    // Scale: red near the top, blue near the bottom.
    const high = at(256 + 12, 22 + 14);
    const low = at(256 + 12, 22 + 128 - 14);
    expect(high[0]! - high[2]!).toBeGreaterThan(60);
    expect(low[2]! - low[0]!).toBeGreaterThan(60);
  });

  it('draws the bare map without the film when asked', async () => {
    const overlay = await pixels(
      await renderHeatmapPng(image, grid, { size: 128, label: 'X', overlay: true }),
    );
    const bare = await pixels(await renderHeatmapPng(image, grid, { size: 128, label: 'X', overlay: false }));
    // Far from the hot cell: the film (grey) in the overlay, the cold end of the scale (blue) bare.
    const [r, g, b] = overlay.at(120, 22 + 5);
    expect(new Set([r, g, b]).size).toBe(1);
    const cold = bare.at(120, 22 + 5);
    expect(cold[2]! - cold[0]!).toBeGreaterThan(60);
  });

  it('upsamples the map smoothly: neighbouring output pixels differ little', async () => {
    const { at } = await pixels(await renderHeatmapPng(image, grid, { size: 256, overlay: false }));
    let worst = 0;
    for (let y = 1; y < 256; y++) {
      for (let x = 1; x < 256; x++) {
        const d = Math.max(
          Math.abs(at(x, y)[0]! - at(x - 1, y)[0]!),
          Math.abs(at(x, y)[0]! - at(x, y - 1)[0]!),
        );
        if (d > worst) worst = d;
      }
    }
    // A cell edge drawn blocky would jump by up to 255 between two pixels.
    expect(worst).toBeLessThan(48);
  });
});
