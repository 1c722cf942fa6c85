import {
  auroc,
  bootstrap,
  confusionMatrix,
  countsAt,
  expectedCalibrationError,
  pick,
  rates,
} from './classification-metrics';
import { seededRandom } from '../shared/random';

describe('classification metrics', () => {
  it('computes AUROC as the probability a positive outranks a negative, ties counting half', () => {
    expect(auroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBeCloseTo(0.75);
    expect(auroc([0.5, 0.5, 0.5, 0.5], [false, true, false, true])).toBeCloseTo(0.5);
    expect(auroc([0.9, 0.8, 0.1], [true, true, false])).toBe(1);
    expect(auroc([0.2, 0.3], [true, true])).toBeNull();
  });

  it('counts decisions at a threshold and derives recall, specificity, PPV and NPV', () => {
    const c = countsAt([0.9, 0.6, 0.4, 0.2, 0.7], [true, true, true, false, false], 0.5);
    expect(c).toEqual({ tp: 2, fn: 1, fp: 1, tn: 1 });
    expect(rates(c)).toEqual({ recall: 2 / 3, specificity: 0.5, ppv: 2 / 3, npv: 0.5 });
    expect(rates({ tp: 0, fn: 0, fp: 0, tn: 3 }).recall).toBeNull();
  });

  it('computes expected calibration error over equal-width bins', () => {
    // two films at confidence 0.9 (one right) and two at 0.6 (both right): |0.5-0.9|*0.5 + |1-0.6|*0.5 = 0.4
    const p = [
      [0.9, 0.1],
      [0.9, 0.1],
      [0.4, 0.6],
      [0.4, 0.6],
    ];
    expect(expectedCalibrationError(p, [0, 1, 1, 1])).toBeCloseTo(0.4);
    expect(expectedCalibrationError([[1, 0]], [0])).toBeCloseTo(0);
  });

  it('builds a confusion matrix with truth in rows', () => {
    expect(
      confusionMatrix(
        [
          [0.8, 0.2],
          [0.3, 0.7],
          [0.6, 0.4],
        ],
        [0, 1, 1],
        2,
      ),
    ).toEqual([
      [1, 0],
      [1, 1],
    ]);
  });

  it('gives reproducible bootstrap intervals as wide as the sampling error of the AUROC', () => {
    // Two overlapping Gaussian classes one standard deviation apart: AUROC = Φ(1/√2) ≈ 0.760, and
    // with 100 films a class its standard error is about 0.034 (Hanley–McNeil), so the 95% interval is
    // about 0.13 wide and holds the true value.
    const rand = seededRandom(5);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const labels = Array.from({ length: 200 }, (_, i) => i % 2 === 1);
    const scores = labels.map((pos) => gauss() + (pos ? 1 : 0));
    const stat = (idx: number[] | null) => auroc(pick(scores, idx), pick(labels, idx));
    const a = bootstrap(scores.length, stat, 500, 1);
    const b = bootstrap(scores.length, stat, 500, 1);
    expect(a).toEqual(b);
    const [lo, hi] = a.ci95!;
    expect(lo).toBeLessThan(a.value!);
    expect(hi).toBeGreaterThan(a.value!);
    expect(hi - lo).toBeGreaterThan(0.09);
    expect(hi - lo).toBeLessThan(0.18);
    expect(lo).toBeLessThan(0.76);
    expect(hi).toBeGreaterThan(0.76);
    expect(a.n).toBe(200);
    // a different seed resamples differently
    expect(bootstrap(scores.length, stat, 500, 2).ci95).not.toEqual(a.ci95);
  });
});
