import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PYTHON } from '../../src/training/trainer-runner';
import { requireOrSkip } from '../support/test-database';

const run = promisify(execFile);

/** Runs a Python snippet beside the trainers' modules and returns what it printed as JSON. */
async function python(code: string, env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const { stdout } = await run(PYTHON, ['-c', code], {
    cwd: 'src/training/python',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('training augmentation with box masks (wrist_v2.py pretrain --box-weight)', () => {
  const ready = requireOrSkip(
    existsSync(PYTHON),
    `${PYTHON} with python3-torch (scripts/setup.sh installs it)`,
  );

  it('moves masks by the same geometry as the films and draws the same random numbers with or without them', async () => {
    if (!ready) return;
    const out = await python(`
import json, torch, data
torch.manual_seed(0)
x = 0.2 + 0.05 * torch.rand(6, 1, 64, 64)
x[:, :, 8:40, 6:30] = 1.0
cfg = data.AugConfig(gamma=(1.0, 1.0), contrast=(1.0, 1.0), brightness=0.0, blur_p=0.0, lowres_p=0.0, noise_p=0.0,
                     rotate_deg=25.0, hflip=0.5, vflip=0.5)
plain = data.augment(x, cfg, torch.Generator().manual_seed(3))
xa, ma = data.augment(x, cfg, torch.Generator().manual_seed(3), masks=x.clone())
small = torch.nn.functional.avg_pool2d(x, 4)
_, ms = data.augment(x, cfg, torch.Generator().manual_seed(3), masks=small)
moved = data.torch_instance_normalise(ma)
geo = data.augment(x, cfg, torch.Generator().manual_seed(3), masks=x)[1]
print(json.dumps({
  "same_draws": bool(torch.equal(plain, xa)),
  "mask_follows": float((moved - xa).abs().max()),
  "moved": float((ma - x).abs().mean()),
  "low_res_follows": float((torch.nn.functional.avg_pool2d(geo, 4) - ms).abs().mean()),
  "v2": [tuple(t.shape) for t in data.augment_v2(x, cfg, torch.Generator().manual_seed(3), masks=small)],
}))`);
    expect(out.same_draws).toBe(true);
    // The mask, put through the film's normalisation, is the augmented film: same warp, nothing else.
    expect(out.mask_follows).toBeLessThan(1e-4);
    expect(out.moved).toBeGreaterThan(0.05);
    // A coarser mask lands on the same cells (up to bilinear sampling at the coarser grid).
    expect(out.low_res_follows).toBeLessThan(0.08);
    expect(out.v2).toEqual([
      [6, 1, 64, 64],
      [6, 1, 16, 16],
    ]);
  });

  it("draws bone/'s YOLO boxes (polygons or centre boxes) onto the tissue-cropped field of view", async () => {
    if (!ready) return;
    const root = mkdtempSync(join(tmpdir(), 'cc-boxes-'));
    try {
      const images = join(root, 'datasets', 'bone', 'train', 'images');
      mkdirSync(images, { recursive: true });
      mkdirSync(join(root, 'datasets', 'bone', 'train', 'labels'));
      // A tall film, dark edges and a bright upright "bone" in the middle; the box covers its upper quarter.
      writeFileSync(
        join(root, 'datasets', 'bone', 'train', 'labels', 'a.txt'),
        '0 0.4 0.1 0.6 0.1 0.6 0.3 0.4 0.3\n',
      );
      writeFileSync(join(root, 'datasets', 'bone', 'train', 'labels', 'b.txt'), '3 0.5 0.2 0.2 0.2\n');
      const out = await python(
        `
import json, os, numpy as np
from PIL import Image
import wrist_v2 as w, data
img = np.zeros((400, 200), np.uint8)
img[20:380, 60:140] = np.tile(np.linspace(120, 250, 80).astype(np.uint8), (360, 1))
for n in ("a", "b"):
    Image.fromarray(img).save(os.path.join(data.datasets_root(), "bone/train/images", n + ".jpg"))
box = data.tissue_crop_box(data.decode_gray01(os.path.join(data.datasets_root(), "bone/train/images/a.jpg")))
m = w._box_mask_one(("bone/train/images/a.jpg", 32))
rows = np.nonzero(m.sum(1))[0]; cols = np.nonzero(m.sum(0))[0]
print(json.dumps({
  "polygon": [list(b) for b in w.bone_boxes("bone/train/images/a.jpg")],
  "centre": [list(b) for b in w.bone_boxes("bone/train/images/b.jpg")],
  "none": w.bone_boxes("bone/train/images/missing.jpg"),
  "box": box, "rows": [int(rows[0]), int(rows[-1])], "cols": [int(cols[0]), int(cols[-1])],
  "max": float(m.max()), "shape": list(m.shape),
}))`,
        { CARE_SHARED_DIR: root },
      );
      expect(out.polygon).toEqual([[0.4, 0.1, 0.6, 0.3]]);
      const [centre] = out.centre as number[][];
      expect(centre![0]).toBeCloseTo(0.4, 6);
      expect(centre![3]).toBeCloseTo(0.3, 6);
      expect(out.none).toEqual([]);
      expect(out.shape).toEqual([32, 32]);
      expect(out.max).toBe(1);
      // Rows 40..120 of 400 px inside the crop box, as a share of its height, on a 32-cell grid.
      const box = out.box as { x0: number; y0: number; x1: number; y1: number; transpose: boolean };
      expect(box.transpose).toBe(false);
      const cell = (px: number, a0: number, a1: number) => ((px - a0) / (a1 - a0)) * 32;
      const [r0, r1] = out.rows as number[];
      expect(r0).toBe(Math.max(0, Math.floor(cell(40, box.y0, box.y1))));
      expect(r1).toBe(Math.min(31, Math.ceil(cell(120, box.y0, box.y1)) - 1));
      const [c0, c1] = out.cols as number[];
      expect(c0).toBe(Math.max(0, Math.floor(cell(80, box.x0, box.x1))));
      expect(c1).toBe(Math.min(31, Math.ceil(cell(120, box.x0, box.x1)) - 1));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
