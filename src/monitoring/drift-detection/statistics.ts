/**
 * Two-sample statistics for drift detection: Kolmogorov–Smirnov for scalars, the population stability
 * index for binned/categorical signals, and a kernel two-sample test (MMD, RBF kernel with the median
 * heuristic, permutation p-value) for embeddings. Pure functions, deterministic for a given seed.
 */

import { seededRandom } from '../../shared/random';

/**
 * Survival function of the Kolmogorov distribution, Q(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2 j² λ²}
 * (the asymptotic p-value of the KS statistic).
 */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  for (let j = 1; j <= 100; j++) {
    const term = Math.exp(-2 * j * j * lambda * lambda);
    sum += (j % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-12) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/** Result of a two-sample test. */
export interface TestResult {
  statistic: number;
  pValue: number;
}

/**
 * Two-sample Kolmogorov–Smirnov test: D = sup |F_a − F_b|, p-value from the Kolmogorov distribution
 * with Stephens' small-sample correction λ = (√nₑ + 0.12 + 0.11/√nₑ)·D, nₑ = nm/(n+m).
 */
export function ksTwoSample(a: readonly number[], b: readonly number[]): TestResult {
  if (a.length === 0 || b.length === 0) throw new RangeError('KS test needs two non-empty samples');
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const ne = (x.length * y.length) / (x.length + y.length);
  const sqrtNe = Math.sqrt(ne);
  return { statistic: d, pValue: kolmogorovQ((sqrtNe + 0.12 + 0.11 / sqrtNe) * d) };
}

/**
 * Population stability index Σ (aᵢ − eᵢ)·ln(aᵢ/eᵢ) between an expected (reference) and an actual
 * distribution over the same bins. Both are normalised; empty bins are floored at `epsilon` so the
 * index stays finite. Rule of thumb: < 0.1 stable, 0.1–0.25 moderate, > 0.25 a significant shift.
 */
export function psi(expected: readonly number[], actual: readonly number[], epsilon = 1e-4): number {
  if (expected.length !== actual.length || expected.length === 0)
    throw new RangeError('PSI needs two distributions over the same, non-empty bins');
  const norm = (v: readonly number[]) => {
    const total = v.reduce((s, x) => s + x, 0);
    return v.map((x) => Math.max(total > 0 ? x / total : 0, epsilon));
  };
  const e = norm(expected);
  const a = norm(actual);
  let sum = 0;
  for (let k = 0; k < e.length; k++) sum += (a[k]! - e[k]!) * Math.log(a[k]! / e[k]!);
  return sum;
}

/** Proportions of `values` over `categories` (values outside the list are counted in an extra last bin). */
export function categoryProportions(values: readonly string[], categories: readonly string[]): number[] {
  const counts = new Array<number>(categories.length + 1).fill(0);
  for (const v of values) {
    const k = categories.indexOf(v);
    counts[k < 0 ? categories.length : k]!++;
  }
  const n = values.length || 1;
  return counts.map((c) => c / n);
}

/** Squared Euclidean distance. */
function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const d = a[k]! - b[k]!;
    s += d * d;
  }
  return s;
}

/** Options of {@link mmdPermutationTest}. */
export interface MmdOptions {
  /** Number of random relabellings (the smallest reachable p-value is 1/(permutations+1)). */
  permutations: number;
  seed: number;
}

/** An MMD test result: unbiased MMD² estimate, permutation p-value, and the RBF bandwidth used. */
export interface MmdResult extends TestResult {
  bandwidth: number;
}

/**
 * Pairwise squared distances within a reference sample and its pairwise distances sorted, kept per
 * sample: a profile's sample is long-lived (the drift worker keeps each profile), so each window
 * computes only the rows its own points add.
 */
interface ReferenceGeometry {
  /** n × n squared distances (0 on the diagonal). */
  d2: Float64Array;
  /** The n(n−1)/2 distances between distinct points, ascending. */
  sorted: Float64Array;
}

const referenceGeometry = new WeakMap<readonly ArrayLike<number>[], ReferenceGeometry>();

function geometryOf(x: readonly ArrayLike<number>[]): ReferenceGeometry {
  const known = referenceGeometry.get(x);
  if (known) return known;
  const n = x.length;
  const d2 = new Float64Array(n * n);
  const sorted = new Float64Array((n * (n - 1)) / 2);
  let u = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = squaredDistance(x[i]!, x[j]!);
      d2[i * n + j] = v;
      d2[j * n + i] = v;
      sorted[u++] = Math.sqrt(v);
    }
  sorted.sort();
  const geometry = { d2, sorted };
  referenceGeometry.set(x, geometry);
  return geometry;
}

/** The median of two ascending arrays taken together (the mean of the two middle values for an even count). */
function medianOfSorted(a: Float64Array, b: Float64Array): number {
  const count = a.length + b.length;
  const mid = count >> 1;
  let i = 0;
  let j = 0;
  let previous = 0;
  let current = 0;
  for (let k = 0; k <= mid; k++) {
    previous = current;
    current = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
  }
  return count % 2 ? current : (previous + current) / 2;
}

/**
 * Kernel two-sample test (Gretton et al. 2012): unbiased MMD² between `x` (reference) and `y`
 * (window) with the RBF kernel k(a,b) = exp(−‖a−b‖² / (2σ²)), σ = median pairwise distance of the
 * pooled sample, and a permutation p-value (1 + #{MMD²_perm ≥ MMD²}) / (1 + permutations).
 *
 * The kernel matrix is computed once; each permutation draws a random subset of size |y| and uses row
 * sums, so it costs O(|y|²) rather than O((|x|+|y|)²). The reference's own distances (and their order)
 * are computed once per `x` array and kept (see {@link geometryOf}), so a window pays only for the
 * distances its points add; the result is the same, bit for bit, as computing everything afresh.
 */
export function mmdPermutationTest(
  x: readonly ArrayLike<number>[],
  y: readonly ArrayLike<number>[],
  options: MmdOptions,
): MmdResult {
  const n = x.length;
  const m = y.length;
  if (n < 2 || m < 2) throw new RangeError('MMD needs at least two points in each sample');
  const reference = geometryOf(x);
  const z = [...x, ...y];
  const size = n + m;
  const d2 = new Float64Array(size * size);
  for (let i = 0; i < n; i++) d2.set(reference.d2.subarray(i * n, (i + 1) * n), i * size);
  // The distances the window adds: window to reference, and within the window.
  const added = new Float64Array(m * n + (m * (m - 1)) / 2);
  let u = 0;
  for (let j = n; j < size; j++) {
    for (let i = 0; i < j; i++) {
      const v = squaredDistance(z[i]!, z[j]!);
      d2[i * size + j] = v;
      d2[j * size + i] = v;
      added[u++] = Math.sqrt(v);
    }
  }
  const sigma = medianOfSorted(reference.sorted, added.sort()) || 1;
  const gamma = 1 / (2 * sigma * sigma);
  const k = d2; // reused in place: kernel values (each pair's exponential taken once, mirrored)
  for (let i = 0; i < size; i++) {
    k[i * size + i] = 1;
    for (let j = i + 1; j < size; j++) {
      const v = Math.exp(-gamma * d2[i * size + j]!);
      k[i * size + j] = v;
      k[j * size + i] = v;
    }
  }
  const rowSum = new Float64Array(size);
  let total = 0;
  for (let i = 0; i < size; i++) {
    let s = 0;
    for (let j = 0; j < size; j++) s += k[i * size + j]!;
    rowSum[i] = s;
    total += s;
  }
  const statFor = (yIdx: ArrayLike<number>): number => {
    let syy = 0;
    let ry = 0;
    for (let a = 0; a < m; a++) {
      const i = yIdx[a]!;
      ry += rowSum[i]!;
      const row = i * size;
      for (let b = 0; b < m; b++) syy += k[row + yIdx[b]!]!;
    }
    const sxy = ry - syy;
    const sxx = total - 2 * sxy - syy;
    return (sxx - n) / (n * (n - 1)) + (syy - m) / (m * (m - 1)) - (2 * sxy) / (n * m);
  };
  const observedIdx = Int32Array.from({ length: m }, (_, a) => n + a);
  const observed = statFor(observedIdx);
  const random = seededRandom(options.seed);
  const perm = Int32Array.from({ length: size }, (_, i) => i);
  let exceed = 0;
  for (let p = 0; p < options.permutations; p++) {
    // Partial Fisher–Yates: the first m slots become a uniform random subset.
    for (let a = 0; a < m; a++) {
      const b = a + Math.floor(random() * (size - a));
      const t = perm[a]!;
      perm[a] = perm[b]!;
      perm[b] = t;
    }
    if (statFor(perm.subarray(0, m)) >= observed) exceed++;
  }
  return {
    statistic: observed,
    pValue: (1 + exceed) / (1 + options.permutations),
    bandwidth: sigma,
  };
}

/** Principal axes of a sample: mean, the top components (unit rows) and the variance each explains. */
export interface Pca {
  mean: number[];
  components: number[][];
  explainedVariance: number[];
  totalVariance: number;
}

/**
 * PCA by orthogonal (subspace) iteration on the covariance matrix: good enough for a few dozen
 * components of a few hundred dimensions, with no linear-algebra dependency.
 */
export function fitPca(rows: readonly ArrayLike<number>[], k: number, iterations = 150, seed = 7): Pca {
  const n = rows.length;
  const d = rows[0]!.length;
  const mean = new Array<number>(d).fill(0);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;
  const cov = new Float64Array(d * d);
  for (const r of rows) {
    const c = Array.from({ length: d }, (_, j) => r[j]! - mean[j]!);
    for (let a = 0; a < d; a++) {
      const ca = c[a]!;
      if (ca === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b]! += (ca * c[b]!) / (n - 1);
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a]!;
  let totalVariance = 0;
  for (let a = 0; a < d; a++) totalVariance += cov[a * d + a]!;
  const random = seededRandom(seed);
  let q = Array.from({ length: k }, () => Array.from({ length: d }, () => random() - 0.5));
  const orthonormalise = (vs: number[][]) => {
    for (let i = 0; i < vs.length; i++) {
      const v = vs[i]!;
      for (let p = 0; p < i; p++) {
        const w = vs[p]!;
        let dot = 0;
        for (let j = 0; j < d; j++) dot += v[j]! * w[j]!;
        for (let j = 0; j < d; j++) v[j]! -= dot * w[j]!;
      }
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
      for (let j = 0; j < d; j++) v[j]! /= norm;
    }
    return vs;
  };
  const multiply = (v: number[]) => {
    const out = new Array<number>(d).fill(0);
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += cov[a * d + b]! * v[b]!;
      out[a] = s;
    }
    return out;
  };
  q = orthonormalise(q);
  for (let it = 0; it < iterations; it++) q = orthonormalise(q.map(multiply));
  const explainedVariance = q.map((v) => multiply(v).reduce((s, x, j) => s + x * v[j]!, 0));
  return { mean, components: q, explainedVariance, totalVariance };
}

/** Projects one vector onto PCA components (centred first). */
export function project(pca: Pick<Pca, 'mean' | 'components'>, v: ArrayLike<number>): number[] {
  return pca.components.map((c) => {
    let s = 0;
    for (let j = 0; j < c.length; j++) s += (v[j]! - pca.mean[j]!) * c[j]!;
    return s;
  });
}
