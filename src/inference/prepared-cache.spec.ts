import { GateVerdict } from './gate-verdict';
import type { PreparedImage } from './image-preparer';
import { PreparedCache } from './prepared-cache';

const spec = 'gray-fill-bilinear-instnorm-v1' as const;
const prepared = (size: number, preprocessing = spec): PreparedImage => ({
  tensor: new Float32Array(size * size),
  size,
  preprocessing,
  quality: null as GateVerdict | null,
  width: 10,
  height: 10,
  format: 'JPEG',
  modality: null,
  bodyPartExamined: null,
  stats: { min: 0, max: 1, mean: 0.5 },
  bitsStored: 8,
  intensityHistogram: [],
});

describe('PreparedCache', () => {
  it('holds inputs by content and contract, within its byte bound, least recently used out first', () => {
    const one = 16 * 16 * 4 + 1024;
    const cache = new PreparedCache(3 * one);
    cache.set('a', prepared(16));
    cache.set('b', prepared(16));
    cache.set('c', prepared(16));
    expect(cache.get('a', { size: 16, preprocessing: spec })).toBeDefined(); // a is now the newest
    cache.set('d', prepared(16));
    expect(cache.size).toBe(3);
    expect(cache.get('b', { size: 16, preprocessing: spec })).toBeUndefined();
    expect(cache.get('a', { size: 16, preprocessing: spec })).toBeDefined();
    expect(cache.get('a', { size: 32, preprocessing: spec })).toBeUndefined();
  });

  it('keeps nothing larger than its bound, and nothing at all when the bound is 0', () => {
    const off = new PreparedCache(0);
    off.set('a', prepared(16));
    expect(off.size).toBe(0);
  });

  it('remembers the contracts asked for lately, newest first, at most maxContracts', () => {
    const cache = new PreparedCache(1 << 20, 2);
    expect(cache.contracts).toEqual([]);
    cache.get('x', { size: 224, preprocessing: spec });
    cache.get('x', { size: 256, preprocessing: spec });
    cache.get('x', { size: 224, preprocessing: spec });
    cache.get('x', { size: 320, preprocessing: spec });
    expect(cache.contracts).toEqual([
      { size: 320, preprocessing: spec },
      { size: 224, preprocessing: spec },
    ]);
  });
});
