/** Helpers shared by the benchmark scripts. */

/** Deterministic pseudo-random input (values do not change the compute of a CNN). */
export function randomTensor(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * 2;
  }
  return out;
}

/** Median of a list of numbers. */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Rounds to 2 decimals. */
export const r2 = (x: number): number => Math.round(x * 100) / 100;
/** Rounds to 3 decimals. */
export const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The q-quantile (0..1) of a list of numbers, nearest rank. */
export const quantile = (xs: number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
