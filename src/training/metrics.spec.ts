import {
  auroc,
  bootstrap,
  confusionMatrix,
  countsAt,
  expectedCalibrationError,
  pick,
  rates,
} from './metrics';

describe('metrics', () => {
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

  it('gives reproducible bootstrap intervals that contain the point estimate', () => {
    const scores = Array.from({ length: 200 }, (_, i) => (i % 2 ? 0.6 : 0.4) + ((i * 37) % 11) / 100);
    const labels = scores.map((_, i) => i % 2 === 1);
    const stat = (idx: number[] | null) => auroc(pick(scores, idx), pick(labels, idx));
    const a = bootstrap(scores.length, stat, 300, 1);
    const b = bootstrap(scores.length, stat, 300, 1);
    expect(a).toEqual(b);
    expect(a.ci95![0]).toBeLessThanOrEqual(a.value!);
    expect(a.ci95![1]).toBeGreaterThanOrEqual(a.value!);
    expect(a.n).toBe(200);
  });
});
