/**
 * The acceptance of a version's int8 graph (`variants.int8` in model.json), measured through the server's
 * own path: each film is decoded and prepared as an upload is, then run through model.onnx and the int8
 * graph side by side with onnxruntime-node. `npm run evaluate -- --model models/chest/v2 --variant int8
 * [--write]` runs it; `ENGINE_PRECISION=int8` serves the graph only when it was accepted.
 *
 * The rule (issue 18): on the test split, pooled and per source (the sources LOSO holds out in turn), every
 * AUROC and every recall at the version's operating points stays within 0.005 of model.onnx's. The gate
 * has to hold as well: it refuses at least as many films of other body parts and non-radiographs
 * (within the same 0.005) and at most 0.005 more of the test split's chest films. The graph keeps the
 * version's operating points; its gate thresholds are its own, by the version's rule on its own
 * validation films.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError } from '../errors';
import { decodeImage } from '../imaging';
import { toModelTensor } from '../imaging/preprocessing/model-preprocessing';
import type { ModelManifest } from '../inference/model-manifest';
import { loadModelManifest, NOT_TARGET_OUTPUT } from '../inference/model-manifest';
import type { ModelSession, SessionFactory } from '../inference/model-session';
import { calibratedSoftmax } from '../inference/postprocess';
import { auroc } from './classification-metrics';
import { readCsvRecords } from './csv';
import { DATASET_FILM_LIMITS } from './evaluate-model';

/** The largest change in any AUROC, recall or refusal rate that still accepts the graph. */
export const VARIANT_TOLERANCE = 0.005;

/** One film read by one graph: its logits and the gate's two signals. */
export interface GraphReading {
  logits: number[];
  oodDistance: number;
  notTargetLogit: number | null;
}

/** One film and what each graph read. */
export interface FilmReadings {
  /** `val`, `test` (the version's manifest) or a gate set (`ood`, `bone`, `hand_test`, `other`). */
  set: string;
  label: string;
  source: string;
  fp32: GraphReading;
  int8: GraphReading;
}

/** Films of other body parts and non-radiographs the gate is judged on (paths under the datasets root). */
const GATE_SETS: { set: string; dir: string; keep?: (row: Record<string, string>) => boolean }[] = [
  { set: 'ood', dir: 'ood' },
  { set: 'bone', dir: 'bone' },
  { set: 'hand_test', dir: 'fracatlas_hand', keep: (r) => r.split === 'test' },
  { set: 'other', dir: 'fracatlas_other' },
];

/**
 * Reads the version's validation and test films and the gate sets with both graphs. Films that do not
 * decode (the BMPs of `ood/` the server refuses at intake) are left out for both.
 */
export async function readWithBothGraphs(options: {
  model: string;
  graph: string;
  datasets: string;
  factory: SessionFactory;
  /** Films per batch (default 32). */
  batch?: number;
  /** At most this many films per set (default all): for tests. */
  perSet?: number;
}): Promise<{ manifest: ModelManifest; films: FilmReadings[] }> {
  const manifest = await loadModelManifest(options.model);
  if (manifest.task !== 'chest' || manifest.input.names.length !== 1)
    throw new Error(
      `${options.model}: the int8 acceptance is defined for single-film chest versions (its films and gate sets are chest's)`,
    );
  const rows: { set: string; path: string; label: string; source: string }[] = [];
  const limit = options.perSet ?? Infinity;
  const take = (set: string, list: typeof rows) =>
    rows.push(...list.filter((r) => r.set === set).slice(0, limit));
  const own = readCsvRecords(await readFile(join(options.model, 'manifest.csv'), 'utf8')).map((r) => ({
    set: r.split,
    path: r.path,
    label: r.label,
    source: r.source || 'all',
  }));
  take('val', own);
  take('test', own);
  for (const g of GATE_SETS) {
    const list = readCsvRecords(await readFile(join(options.datasets, g.dir, 'labels.csv'), 'utf8'))
      .filter((r) => !g.keep || g.keep(r))
      .map((r) => ({ set: g.set, path: `${g.dir}/${r.path}`, label: r.label ?? '', source: g.dir }));
    take(g.set, list);
  }
  const opts = { executionProviders: ['cpu'], intraOpThreads: 1 };
  const sessions = {
    fp32: await options.factory.load(join(options.model, 'model.onnx'), opts),
    int8: await options.factory.load(options.graph, opts),
  };
  const films: FilmReadings[] = [];
  const size = manifest.input.size;
  const batch = options.batch ?? 32;
  try {
    for (let i = 0; i < rows.length; i += batch) {
      const chunk = rows.slice(i, i + batch);
      const tensors: Float32Array[] = [];
      const kept: typeof rows = [];
      for (const r of chunk) {
        // A missing or unreadable file is an error of the data; a file that does not decode is left out.
        const bytes = await readFile(join(options.datasets, r.path));
        let img;
        try {
          img = await decodeImage(bytes, DATASET_FILM_LIMITS);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          continue;
        }
        tensors.push(await toModelTensor(img, size, manifest.preprocessing.id));
        kept.push(r);
      }
      if (!kept.length) continue;
      const data = new Float32Array(kept.length * size * size);
      tensors.forEach((t, k) => data.set(t, k * size * size));
      const feeds = { [manifest.input.names[0]!]: { data, dims: [kept.length, 1, size, size] } };
      const out = { fp32: await sessions.fp32.run(feeds), int8: await sessions.int8.run(feeds) };
      const k = manifest.classes.length;
      kept.forEach((r, j) => {
        const of = (m: Awaited<ReturnType<ModelSession['run']>>): GraphReading => ({
          logits: Array.from(m.logits!.data.subarray(j * k, j * k + k)),
          oodDistance: m.ood_distance!.data[j]!,
          notTargetLogit: m[NOT_TARGET_OUTPUT] ? m[NOT_TARGET_OUTPUT].data[j]! : null,
        });
        films.push({ set: r.set, label: r.label, source: r.source, fp32: of(out.fp32), int8: of(out.int8) });
      });
    }
  } finally {
    await Promise.allSettled([sessions.fp32.release(), sessions.int8.release()]);
  }
  return { manifest, films };
}

/** One compared figure: model.onnx's, the int8 graph's, and whether the difference is allowed. */
export interface VariantCheck {
  name: string;
  fp32: number;
  int8: number;
  passed: boolean;
}

export interface VariantJudgement {
  accepted: boolean;
  /** The int8 graph's gate thresholds (the version's rule on its validation films). */
  gate: { oodDistanceThreshold: number; notTargetLogitThreshold?: number };
  checks: VariantCheck[];
  failed: string[];
  counts: Record<string, number>;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** The int8 graph's gate thresholds: the version's gate rule (quantile x margin) on its validation films. */
export function variantGateThresholds(
  manifest: ModelManifest,
  val: GraphReading[],
): VariantJudgement['gate'] {
  const hp = ((manifest.training as Record<string, unknown> | undefined)?.hyperparameters ?? {}) as Record<
    string,
    unknown
  >;
  const q = typeof hp.gateQuantile === 'number' ? hp.gateQuantile : 0.99;
  const margin = typeof hp.oodMargin === 'number' ? hp.oodMargin : 1;
  if (!val.length) throw new Error('no validation films: the gate thresholds cannot be taken');
  const k = Math.ceil(q * val.length) - 1;
  const d = val.map((v) => v.oodDistance).sort((a, b) => a - b);
  const gate: VariantJudgement['gate'] = { oodDistanceThreshold: r4(d[k]! * margin) };
  if (manifest.gate.notTargetLogitThreshold !== undefined) {
    const l = val.map((v) => v.notTargetLogit ?? Number.NaN).sort((a, b) => a - b);
    gate.notTargetLogitThreshold = r4(l[k]!);
  }
  return gate;
}

type Check = (name: string, fp32: number | null, int8: number | null, ok: (d: number) => boolean) => void;

/** AUROC (per class pooled; abnormal vs NORMAL per source) and recall at each operating point, both graphs. */
function readingChecks(
  manifest: ModelManifest,
  test: FilmReadings[],
  add: Check,
  within: (d: number) => boolean,
) {
  const classes = manifest.classes;
  const normal = classes.indexOf('NORMAL');
  const sources = [...new Set(test.map((f) => f.source))].sort();
  const scopes: [string, FilmReadings[]][] = [
    ['test', test],
    ...sources.map((s): [string, FilmReadings[]] => [`test/${s}`, test.filter((f) => f.source === s)]),
  ];
  for (const [scope, list] of scopes) {
    const p = (g: 'fp32' | 'int8') => list.map((f) => calibratedSoftmax(f[g].logits, manifest.temperature));
    const [pf, pi] = [p('fp32'), p('int8')];
    const y = list.map((f) => classes.indexOf(f.label));
    const both = (score: (x: number[]) => number, positive: (v: number) => boolean) =>
      [pf, pi].map((ps) => auroc(ps.map(score), y.map(positive))) as [number | null, number | null];
    if (scope === 'test')
      classes.forEach((c, k) =>
        add(
          `${scope} AUROC ${c}`,
          ...both(
            (x) => x[k]!,
            (v) => v === k,
          ),
          within,
        ),
      );
    else if (normal >= 0)
      add(
        `${scope} AUROC abnormal`,
        ...both(
          (x) => 1 - x[normal]!,
          (v) => v !== normal,
        ),
        within,
      );
    for (const [c, t] of Object.entries(manifest.thresholds)) {
      const k = classes.indexOf(c);
      const pos = y.map((v, i) => (v === k ? i : -1)).filter((i) => i >= 0);
      if (!pos.length) continue;
      const recall = (ps: number[][]) => pos.filter((i) => ps[i]![k]! >= t.value).length / pos.length;
      add(`${scope} recall@${c} (${pos.length} positives)`, recall(pf), recall(pi), within);
    }
  }
}

/** Judges the int8 graph against model.onnx by the rule in this file's header. */
export function judgeVariant(
  manifest: ModelManifest,
  films: FilmReadings[],
  tolerance = VARIANT_TOLERANCE,
): VariantJudgement {
  const gates = {
    fp32: manifest.gate,
    int8: variantGateThresholds(
      manifest,
      films.filter((f) => f.set === 'val').map((f) => f.int8),
    ),
  };
  const refused = (g: 'fp32' | 'int8', r: GraphReading) =>
    !(r.oodDistance <= gates[g].oodDistanceThreshold) ||
    (gates[g].notTargetLogitThreshold !== undefined && r.notTargetLogit! > gates[g].notTargetLogitThreshold!);
  const checks: VariantCheck[] = [];
  const add: Check = (name, a, b, ok) => {
    if (a !== null && b !== null) checks.push({ name, fp32: r4(a), int8: r4(b), passed: ok(b - a) });
  };
  const eps = 1e-9;
  readingChecks(
    manifest,
    films.filter((f) => f.set === 'test'),
    add,
    (d) => Math.abs(d) <= tolerance + eps,
  );
  for (const set of ['test', ...GATE_SETS.map((g) => g.set)]) {
    const list = films.filter((f) => f.set === set);
    if (!list.length) continue;
    const rate = (g: 'fp32' | 'int8') => list.filter((f) => refused(g, f[g])).length / list.length;
    // chest films: no more refused; other body parts and non-radiographs: no fewer
    const ok = set === 'test' ? (d: number) => d <= tolerance + eps : (d: number) => d >= -tolerance - eps;
    add(`${set} refused by the gate (${list.length} films)`, rate('fp32'), rate('int8'), ok);
  }
  const counts: Record<string, number> = {};
  for (const f of films) counts[f.set] = (counts[f.set] ?? 0) + 1;
  const failed = checks.filter((c) => !c.passed).map((c) => c.name);
  return { accepted: checks.length > 0 && failed.length === 0, gate: gates.int8, checks, failed, counts };
}

/**
 * Records the judgement as model.json's `variants.int8` (written whole to a temporary file, then renamed),
 * with the graph's sha256: accepted or not, so the model card says what was measured.
 */
export async function writeVariant(
  modelDir: string,
  graph: string,
  judgement: VariantJudgement,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const file = join(modelDir, 'model.json');
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const bytes = await readFile(graph);
  json.variants = {
    ...((json.variants as object | undefined) ?? {}),
    int8: {
      file: basename(graph),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      accepted: judgement.accepted,
      gate: judgement.gate,
      acceptance: {
        rule:
          'on the test split, pooled and per source: every AUROC and every recall at the operating points within ' +
          `${VARIANT_TOLERANCE} of model.onnx's; the gate refuses no fewer films of other body parts and ` +
          `non-radiographs (within ${VARIANT_TOLERANCE}) and no more chest test films (within ${VARIANT_TOLERANCE}); ` +
          "operating points are model.onnx's, gate thresholds the version's rule on the int8 graph's validation films",
        measuredWith:
          'npm run evaluate -- --variant int8 (the server decode, preprocessing and onnxruntime-node)',
        counts: judgement.counts,
        failed: judgement.failed,
        checks: judgement.checks,
      },
      ...extra,
    },
  };
  await writeFile(`${file}.tmp`, `${JSON.stringify(json, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}
