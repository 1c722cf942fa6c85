import { seededRandom } from '../shared/random';
import {
  applySiteOperatingPoint,
  calibrateSite,
  checkSiteLabels,
  conformalThreshold,
  positivesForGuarantee,
  SiteItem,
} from './site-calibration';

const CLASSES = ['NORMAL', 'PNEUMONIA', 'TUBERCULOSIS'];
const SHIPPED = {
  temperature: 1,
  thresholds: {
    PNEUMONIA: { value: 0.05, targetRecall: 0.98 },
    TUBERCULOSIS: { value: 0.05, targetRecall: 0.98 },
  },
};

/** Gaussian via Box–Muller on the seeded generator. */
function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** A site whose pneumonia films score higher than its normals by `shift` logits (no TB). */
function site(nNormal: number, nPneumonia: number, shift: number, seed: number, prefix = 'f'): SiteItem[] {
  const rand = seededRandom(seed);
  const items: SiteItem[] = [];
  for (let i = 0; i < nNormal + nPneumonia; i++) {
    const pos = i >= nNormal;
    const z = normal(rand) + (pos ? shift : 0);
    items.push({
      ref: `${prefix}${i}.png`,
      label: pos ? 'PNEUMONIA' : 'NORMAL',
      group: `p${prefix}${i}`,
      logits: [0, z, -3],
      gateVerdict: i % 50 === 0 ? 'NOT_A_RADIOGRAPH' : 'ACCEPTED',
    });
  }
  return items;
}

describe('site labels', () => {
  const rows = (lines: string[][]) => lines.map(([path, label, patient_id]) => ({ path, label, patient_id }));

  it('accepts path,label[,patient_id] and groups rows by patient', () => {
    const out = checkSiteLabels(
      rows([
        ['a.png', 'normal', 'p1'],
        ['b.png', 'PNEUMONIA', 'p2'],
        ['c.png', 'PNEUMONIA', 'p2'],
      ]),
      CLASSES,
    );
    expect(out.map((r) => [r.row, r.label, r.group])).toEqual([
      [2, 'NORMAL', 'p1'],
      [3, 'PNEUMONIA', 'p2'],
      [4, 'PNEUMONIA', 'p2'],
    ]);
  });

  it.each([
    [
      'an unknown label',
      [
        ['a.png', 'NORMAL'],
        ['b.png', 'COVID'],
      ],
      /row 3: unknown label "COVID"/,
    ],
    [
      'a duplicate path',
      [
        ['a.png', 'NORMAL'],
        ['a.png', 'PNEUMONIA'],
      ],
      /row 3: duplicate of row 2/,
    ],
    [
      'one class only',
      [
        ['a.png', 'NORMAL'],
        ['b.png', 'NORMAL'],
      ],
      /one class only/,
    ],
    [
      'no negatives',
      [
        ['a.png', 'PNEUMONIA'],
        ['b.png', 'TUBERCULOSIS'],
      ],
      /one class only|NORMAL films/,
    ],
    [
      'a patient with two labels',
      [
        ['a.png', 'NORMAL', 'p1'],
        ['b.png', 'PNEUMONIA', 'p1'],
      ],
      /row 3: patient p1 is PNEUMONIA here but NORMAL in row 2/,
    ],
    [
      'an empty path',
      [
        ['', 'NORMAL'],
        ['b.png', 'PNEUMONIA'],
      ],
      /row 2: empty path/,
    ],
  ])('refuses %s, naming the row', (_, lines, message) => {
    expect(() => checkSiteLabels(rows(lines as string[][]), CLASSES)).toThrow(message);
  });

  it('refuses a file without the path or label column', () => {
    expect(() => checkSiteLabels([{ file: 'a.png', label: 'NORMAL' }], CLASSES)).toThrow(
      /missing column "path"/,
    );
  });
});

describe('site operating point', () => {
  it('needs 49 positives for a 98% guarantee and takes the k-th smallest positive score', () => {
    expect(positivesForGuarantee(0.98)).toBe(49);
    expect(positivesForGuarantee(0.99)).toBe(99);
    expect(
      conformalThreshold(
        Array.from({ length: 48 }, (_, i) => i),
        0.98,
      ),
    ).toBeNull();
    expect(
      conformalThreshold(
        Array.from({ length: 49 }, (_, i) => 49 - i),
        0.98,
      ),
    ).toEqual({ value: 1, k: 1, n: 49 });
    expect(
      conformalThreshold(
        Array.from({ length: 100 }, (_, i) => i / 100),
        0.98,
      ),
    ).toEqual({
      value: 0.01,
      k: 2,
      n: 100,
    });
  });

  it('keeps the shipped threshold and says how many positives are missing when there are too few', () => {
    const { operatingPoint, evaluation } = calibrateSite(site(60, 30, 2, 1), CLASSES, SHIPPED, {
      resamples: 50,
    });
    expect(operatingPoint.thresholds.PNEUMONIA).toMatchObject({
      source: 'shipped',
      value: 0.05,
      nPositives: 30,
      positivesNeeded: 19,
    });
    expect(operatingPoint.thresholds.TUBERCULOSIS).toMatchObject({ source: 'shipped', positivesNeeded: 49 });
    expect(evaluation.findings.PNEUMONIA.site.source).toBe('shipped');
    expect(evaluation.gateRefused.n).toBe(2);
  });

  it('holds the target recall on the same site’s other films (E[recall] over many sites ≥ target)', () => {
    let recallSum = 0;
    let specSum = 0;
    const trials = 120;
    for (let t = 0; t < trials; t++) {
      const cal = site(100, 100, 2.5, 1000 + t, 'c');
      const test = site(400, 400, 2.5, 5000 + t, 't');
      const { operatingPoint } = calibrateSite(cal, CLASSES, SHIPPED, { resamples: 0, seed: t });
      const th = operatingPoint.thresholds.PNEUMONIA;
      expect(th.source).toBe('site');
      const temp = operatingPoint.temperature;
      const p = (l: number[]) => {
        const e = l.map((v) => Math.exp(v / temp));
        return e[1]! / e.reduce((a, b) => a + b, 0);
      };
      const pos = test.filter((i) => i.label === 'PNEUMONIA');
      const neg = test.filter((i) => i.label === 'NORMAL');
      recallSum += pos.filter((i) => p(i.logits) >= th.value).length / pos.length;
      specSum += neg.filter((i) => p(i.logits) < th.value).length / neg.length;
    }
    // k = floor(0.02 * 101) = 2 of 100: E[recall] >= 1 - 2/101 = 0.980
    expect(recallSum / trials).toBeGreaterThanOrEqual(0.975);
    // and it is not bought with flagging everything: a 2.5-logit separation leaves specificity
    expect(specSum / trials).toBeGreaterThan(0.3);
  });

  it('recalibrates the temperature only when that lowers ECE on held-out site films', () => {
    // logits 4x too confident: a site temperature near 4 helps
    const over = site(150, 150, 2, 3).map((i) => ({ ...i, logits: i.logits.map((v) => v * 4) }));
    const a = calibrateSite(over, CLASSES, SHIPPED, { resamples: 0 });
    expect(a.evaluation.temperature.eceSite).toBeLessThan(a.evaluation.temperature.eceShipped);
    expect(a.operatingPoint.temperature).toBeGreaterThan(2);
    // already calibrated at the shipped temperature: keep it unless the site fit is better on held-out films
    const b = calibrateSite(site(150, 150, 2, 4), CLASSES, { ...SHIPPED, temperature: 1 }, { resamples: 0 });
    if (b.operatingPoint.temperature !== 1)
      expect(b.evaluation.temperature.eceSite).toBeLessThan(b.evaluation.temperature.eceShipped);
  });
});

describe('applying a site file', () => {
  const manifest = { name: 'm', version: 'v2', temperature: 1, thresholds: { PNEUMONIA: { value: 0.05 } } };
  const file = {
    kind: 'care-companion-site-operating-point',
    model: { name: 'm', version: 'v2', modelJsonSha256: 'abc' },
    operatingPoint: { temperature: 2, thresholds: { PNEUMONIA: { value: 0.3 } } },
  };

  it('replaces the temperature and the thresholds it sets', () => {
    const m = applySiteOperatingPoint(manifest, 'abc', file);
    expect(m.temperature).toBe(2);
    expect(m.thresholds.PNEUMONIA.value).toBe(0.3);
    expect(manifest.thresholds.PNEUMONIA.value).toBe(0.05);
  });

  it('refuses a file made for another model, another model.json, or not a site file', () => {
    expect(() => applySiteOperatingPoint({ ...manifest, version: 'v1' }, 'abc', file)).toThrow(/not m@v1/);
    expect(() => applySiteOperatingPoint(manifest, 'other', file)).toThrow(/different model.json/);
    expect(() => applySiteOperatingPoint(manifest, 'abc', { hello: 1 })).toThrow(
      /not a site operating point/,
    );
    expect(() =>
      applySiteOperatingPoint(manifest, 'abc', {
        ...file,
        operatingPoint: { temperature: 1, thresholds: { FRACTURE: { value: 0.1 } } },
      }),
    ).toThrow(/unknown finding FRACTURE/);
  });
});
