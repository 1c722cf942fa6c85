/**
 * Deterministic randomness shared by the layers that need reproducible draws (bootstrap intervals in
 * `training/`, permutation tests and manifest sampling in `monitoring/drift-detection/`). Depends on nothing.
 */

/**
 * A small seeded PRNG (mulberry32): uniform in [0, 1). The same seed gives the same sequence on every
 * run and platform, so bootstrap intervals and permutation p-values are reproducible.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
