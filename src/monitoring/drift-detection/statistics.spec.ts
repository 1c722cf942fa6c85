import {
  categoryProportions,
  fitPca,
  kolmogorovQ,
  ksTwoSample,
  mmdPermutationTest,
  project,
  psi,
} from './statistics';
import { seededRandom } from '../../shared/random';

const gaussian = (random: () => number) => {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
};

describe('kolmogorovQ', () => {
  it('matches the tabulated critical values of the Kolmogorov distribution', () => {
    expect(kolmogorovQ(1.2238)).toBeCloseTo(0.1, 3);
    expect(kolmogorovQ(1.3581)).toBeCloseTo(0.05, 3);
    expect(kolmogorovQ(1.6276)).toBeCloseTo(0.01, 3);
    expect(kolmogorovQ(0.1)).toBe(1);
  });
});

describe('ksTwoSample', () => {
  it('computes D for overlapping samples', () => {
    expect(ksTwoSample([1, 2, 3, 4, 5], [3, 4, 5, 6, 7]).statistic).toBeCloseTo(0.4, 10);
  });

  it('gives D = 1 and a small p-value for disjoint samples, D = 0 and p = 1 for equal ones', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const b = Array.from({ length: 50 }, (_, i) => 100 + i);
    const disjoint = ksTwoSample(a, b);
    expect(disjoint.statistic).toBe(1);
    // λ = (5 + 0.12 + 0.022)·1 ≈ 5.14 → Q ≈ 2e−23
    expect(disjoint.pValue).toBeLessThan(1e-20);
    expect(ksTwoSample(a, a)).toEqual({ statistic: 0, pValue: 1 });
  });

  it('handles ties between the samples', () => {
    expect(ksTwoSample([1, 1, 2, 2], [1, 2, 2, 2]).statistic).toBeCloseTo(0.25, 10);
  });

  it('refuses an empty sample', () => {
    expect(() => ksTwoSample([], [1])).toThrow(RangeError);
  });
});

describe('psi', () => {
  it('matches a hand-computed value', () => {
    // 0.2·ln(1.4) + (−0.2)·ln(0.6) = 0.169461...
    expect(psi([0.5, 0.5], [0.7, 0.3])).toBeCloseTo(0.2 * Math.log(1.4) - 0.2 * Math.log(0.6), 10);
  });

  it('is 0 for identical distributions and normalises counts', () => {
    expect(psi([1, 2, 3], [2, 4, 6])).toBeCloseTo(0, 12);
  });

  it('stays finite when a bin is empty', () => {
    expect(Number.isFinite(psi([1, 0], [0, 1]))).toBe(true);
    expect(psi([1, 0], [0, 1])).toBeGreaterThan(10);
  });

  it('counts unknown categories in an extra bin', () => {
    expect(categoryProportions(['A', 'B', 'A', 'C'], ['A', 'B'])).toEqual([0.5, 0.25, 0.25]);
  });
});

/** Unbiased MMD² with the median-heuristic RBF bandwidth, straight from the definition (O(N²) kernel sums). */
function textbookMmd(x: number[][], y: number[][]): { bandwidth: number; statistic: number } {
  const z = [...x, ...y];
  const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]!) ** 2, 0));
  const d: number[] = [];
  for (let i = 0; i < z.length; i++) for (let j = i + 1; j < z.length; j++) d.push(dist(z[i]!, z[j]!));
  d.sort((a, b) => a - b);
  const mid = d.length >> 1;
  const sigma = d.length % 2 ? d[mid]! : (d[mid - 1]! + d[mid]!) / 2;
  const k = (a: number[], b: number[]) => Math.exp(-(dist(a, b) ** 2) / (2 * sigma * sigma));
  const within = (s: number[][]) => {
    let t = 0;
    for (let i = 0; i < s.length; i++) for (let j = 0; j < s.length; j++) if (i !== j) t += k(s[i]!, s[j]!);
    return t / (s.length * (s.length - 1));
  };
  let cross = 0;
  for (const a of x) for (const b of y) cross += k(a, b);
  return { bandwidth: sigma, statistic: within(x) + within(y) - (2 * cross) / (x.length * y.length) };
}

describe('mmdPermutationTest', () => {
  it('matches the unbiased MMD² and median-heuristic bandwidth computed with numpy', () => {
    const x = [
      [0, 0],
      [1, 0],
      [0, 2],
      [1.5, 1],
    ];
    const y = [
      [3, 1],
      [2, 2.5],
      [4, 0.5],
    ];
    const r = mmdPermutationTest(x, y, { permutations: 10, seed: 1 });
    expect(r.bandwidth).toBeCloseTo(2.23606797749979, 10);
    expect(r.statistic).toBeCloseTo(0.4874570492988851, 10);
  });

  it('rejects clearly shifted samples with the smallest reachable p-value', () => {
    const random = seededRandom(3);
    const x = Array.from({ length: 120 }, () => [gaussian(random), gaussian(random), gaussian(random)]);
    const y = Array.from({ length: 40 }, () => [gaussian(random) + 1.5, gaussian(random), gaussian(random)]);
    const r = mmdPermutationTest(x, y, { permutations: 199, seed: 11 });
    expect(r.pValue).toBeCloseTo(1 / 200, 10);
  });

  it('does not reject samples from one distribution, and is reproducible for a seed', () => {
    const random = seededRandom(5);
    const draw = () => [gaussian(random), gaussian(random), gaussian(random)];
    const x = Array.from({ length: 120 }, draw);
    const y = Array.from({ length: 40 }, draw);
    const a = mmdPermutationTest(x, y, { permutations: 199, seed: 11 });
    const b = mmdPermutationTest(x, y, { permutations: 199, seed: 11 });
    expect(a.pValue).toBeGreaterThan(0.05);
    expect(b).toEqual(a);
  });

  it('controls the false-alarm rate at its level over many null draws', () => {
    const random = seededRandom(9);
    const draw = () => [gaussian(random), gaussian(random)];
    let rejections = 0;
    const trials = 60;
    for (let t = 0; t < trials; t++) {
      const r = mmdPermutationTest(Array.from({ length: 40 }, draw), Array.from({ length: 20 }, draw), {
        permutations: 99,
        seed: t,
      });
      if (r.pValue <= 0.1) rejections++;
    }
    // Expected 6 of 60 at level 0.1; P(X ≥ 15) < 0.001 under Binomial(60, 0.1).
    expect(rejections).toBeLessThan(15);
  });
});

describe('mmdPermutationTest: bandwidth, and the reference geometry it keeps', () => {
  it('takes the median of the pooled pairwise distances for odd and even pair counts', () => {
    const random = seededRandom(13);
    const draw = () => [gaussian(random), gaussian(random)];
    // 5 points: 10 pairs (even: the mean of the middle two); 6 points: 15 pairs (odd); 9 points: 36.
    for (const [n, m] of [
      [3, 2],
      [4, 2],
      [5, 4],
    ] as const) {
      const x = Array.from({ length: n }, draw);
      const y = Array.from({ length: m }, draw);
      const z = [...x, ...y];
      const d: number[] = [];
      for (let i = 0; i < z.length; i++)
        for (let j = i + 1; j < z.length; j++)
          d.push(Math.hypot(z[i]![0]! - z[j]![0]!, z[i]![1]! - z[j]![1]!));
      d.sort((a, b) => a - b);
      const mid = d.length >> 1;
      const expected = d.length % 2 ? d[mid]! : (d[mid - 1]! + d[mid]!) / 2;
      expect(mmdPermutationTest(x, y, { permutations: 9, seed: 1 }).bandwidth).toBeCloseTo(expected, 12);
    }
  });

  it('answers a reference it has seen before from that reference, not from another one', () => {
    // The reference's own distances are kept per array: every call must match the textbook estimate
    // for its own reference, whichever references of the same size came before it.
    const random = seededRandom(17);
    const draw = () => [gaussian(random), gaussian(random), gaussian(random)];
    const x = Array.from({ length: 60 }, draw);
    const other = Array.from({ length: 60 }, () => draw().map((v) => v * 2 + 1));
    const options = { permutations: 19, seed: 4 };
    for (const reference of [x, other, x, other]) {
      const window = Array.from({ length: 25 }, draw);
      const r = mmdPermutationTest(reference, window, options);
      const expected = textbookMmd(reference, window);
      expect(r.bandwidth).toBeCloseTo(expected.bandwidth, 12);
      expect(r.statistic).toBeCloseTo(expected.statistic, 12);
    }
  });
});

describe('fitPca', () => {
  it('recovers the dominant axis and its variance', () => {
    const random = seededRandom(2);
    const rows = Array.from({ length: 400 }, () => {
      const t = gaussian(random) * 3;
      const s = gaussian(random) * 0.5;
      return [t + s, t - s, gaussian(random) * 0.1];
    });
    const pca = fitPca(rows, 2);
    const [c0] = pca.components;
    expect(Math.abs(c0![0]!)).toBeCloseTo(Math.SQRT1_2, 1);
    expect(Math.abs(c0![1]!)).toBeCloseTo(Math.SQRT1_2, 1);
    // var(t+s) + var(t−s) projected: 2·9 along the first axis, 2·0.25 along the second.
    expect(pca.explainedVariance[0]! / pca.totalVariance).toBeGreaterThan(0.95);
    expect(project(pca, pca.mean)).toEqual([0, 0]);
  });
});
