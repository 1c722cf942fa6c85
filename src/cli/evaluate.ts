/**
 * `npm run evaluate -- --model models/chest/v1 --labels ../shared/datasets/chest/labels.csv [--split test]
 *   [--root <dir>] [--out report.json] [--resamples 1000]`
 *
 * The shipped test split: `--labels models/chest/v1/manifest.csv --root ../shared/datasets --split test`.
 *
 * Runs a model through the exact decoding, preprocessing and onnxruntime-node path the server uses on
 * any labels.csv in the shared format (path,label[,split,source,...]; paths relative to the CSV) and
 * prints and writes the evaluation report.
 *
 * `npm run evaluate -- --loso models/chest/v2/loso [--manifest models/chest/v2/manifest.csv] [--folds a,b]`
 * is the evaluation that predicts a new hospital: leave-one-source-out folds of the chest recipe
 * (`src/training/python/loso.py`: trains a fold per hospital, tens of minutes each on 2 cores; folds
 * already in the folder are kept), then prints the LOSO table and writes loso.json and LOSO.md there.
 * Without `--manifest` it only re-summarises the folds the folder holds.
 *
 * `npm run evaluate -- --model models/chest/v2 --variant int8 [--graph <file>] [--datasets ../shared/datasets]
 *   [--write [--made-by '<the quantiser's command>']]` judges the version's int8 graph (default: model.int8.onnx beside model.json, made by
 * `src/training/python/quantize_int8.py`) against model.onnx (`src/training/precision-variant.ts`), prints
 * every check, and with `--write` records it in model.json as `variants.int8` (what `ENGINE_PRECISION=int8`
 * serves when accepted). Exits 1 when the graph is not accepted. Wrist rows may name two views in `pa` and `lateral` columns;
 * a row with only `path` is read as a pseudo-study with that image in both views.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { OnnxSessionFactory } from '../inference/onnx/onnx-session.factory';
import { evaluateModel } from '../training/evaluate-model';
import { judgeVariant, readWithBothGraphs, writeVariant } from '../training/precision-variant';
import { runLeaveOneSourceOut } from '../training/trainer-runner';

function fmt(e: { value: number | null; ci95: [number, number] | null }): string {
  if (e.value === null) return 'n/a';
  return e.ci95
    ? `${e.value.toFixed(3)} [${e.ci95[0].toFixed(3)}, ${e.ci95[1].toFixed(3)}]`
    : e.value.toFixed(3);
}

/** `--variant int8`: judges the version's int8 graph against model.onnx; 0 when accepted. */
async function judgeInt8(values: {
  model?: string;
  variant?: string;
  graph?: string;
  datasets?: string;
  write?: boolean;
  'made-by'?: string;
}): Promise<number> {
  if (values.variant !== 'int8' || !values.model) {
    console.error(
      'usage: evaluate --model <models/task/version> --variant int8 [--graph <file>] [--datasets <dir>] [--write]',
    );
    return 2;
  }
  const graph = values.graph ?? join(values.model, 'model.int8.onnx');
  if (!existsSync(graph)) {
    console.error(
      `${graph} does not exist: make it with src/training/python/quantize_int8.py (src/training/python/README.md)`,
    );
    return 2;
  }
  const { manifest, films } = await readWithBothGraphs({
    model: values.model,
    graph,
    datasets: values.datasets!,
    factory: new OnnxSessionFactory(),
  });
  const judgement = judgeVariant(manifest, films);
  for (const c of judgement.checks)
    console.log(
      `${c.passed ? 'ok  ' : 'FAIL'} ${c.name.padEnd(52)} fp32 ${c.fp32.toFixed(4)}  int8 ${c.int8.toFixed(4)}  (${(c.int8 - c.fp32 >= 0 ? '+' : '') + (c.int8 - c.fp32).toFixed(4)})`,
    );
  console.log(
    `int8 gate thresholds ${JSON.stringify(judgement.gate)} (model.onnx: ${manifest.gate.oodDistanceThreshold}` +
      `${manifest.gate.notTargetLogitThreshold !== undefined ? ` / ${manifest.gate.notTargetLogitThreshold}` : ''}); ` +
      `films ${JSON.stringify(judgement.counts)}`,
  );
  console.log(judgement.accepted ? 'ACCEPTED' : `NOT ACCEPTED: ${judgement.failed.join('; ')}`);
  if (values.write) {
    await writeVariant(
      values.model,
      graph,
      judgement,
      values['made-by'] ? { madeBy: values['made-by'] } : {},
    );
    console.log(`wrote variants.int8 into ${join(values.model, 'model.json')}`);
  }
  return judgement.accepted ? 0 : 1;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      labels: { type: 'string' },
      root: { type: 'string' },
      split: { type: 'string' },
      out: { type: 'string' },
      resamples: { type: 'string', default: '1000' },
      loso: { type: 'string' },
      manifest: { type: 'string' },
      folds: { type: 'string' },
      variant: { type: 'string' },
      graph: { type: 'string' },
      datasets: { type: 'string', default: '../shared/datasets' },
      write: { type: 'boolean', default: false },
      'made-by': { type: 'string' },
    },
  });
  if (values.variant !== undefined) {
    process.exitCode = await judgeInt8(values);
    return;
  }
  if (values.loso) {
    await runLeaveOneSourceOut(
      {
        out: values.loso,
        manifest: values.manifest,
        folds: values.folds ? values.folds.split(',') : undefined,
      },
      (line) => console.log(line),
    );
    return;
  }
  if (!values.model || !values.labels) {
    console.error(
      'usage: evaluate --model <models/task/version> --labels <labels.csv> [--root <dir>] [--split test] [--out report.json]',
    );
    process.exit(2);
  }
  const { report, skipped } = await evaluateModel({
    model: values.model,
    labels: values.labels,
    root: values.root,
    split: values.split,
    resamples: Number(values.resamples),
  });
  console.log(
    `model ${report.model}: ${report.n} items${Object.keys(skipped).length ? `, skipped labels ${JSON.stringify(skipped)}` : ''}`,
  );
  for (const c of report.classes) {
    const t = report.atThresholds[c];
    console.log(
      `  ${c.padEnd(14)} AUROC ${fmt(report.aurocPerClass[c])}` +
        (t
          ? `  @${t.threshold.toFixed(4)} recall ${fmt(t.recall)} specificity ${fmt(t.specificity)} PPV ${fmt(t.ppv)} NPV ${fmt(t.npv)}`
          : ''),
    );
  }
  console.log(
    `  ECE ${report.ece.toFixed(4)}  accuracy ${report.accuracy.toFixed(3)}  gate ${JSON.stringify(report.gate)}`,
  );
  for (const [source, s] of Object.entries(report.perSource)) {
    const parts = Object.entries(s.atThresholds).map(
      ([c, r]) => `${c} recall ${r.recall?.toFixed(3) ?? 'n/a'} spec ${r.specificity?.toFixed(3) ?? 'n/a'}`,
    );
    console.log(`  [${source}] n=${s.n} ${parts.join('; ')}`);
  }
  if (values.out) {
    await writeFile(values.out, JSON.stringify({ ...report, skipped }, null, 2));
    console.log(`wrote ${values.out}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(
      JSON.stringify({
        error: { code: (error as { code?: string }).code ?? 'ERROR', message: (error as Error).message },
      }),
    );
    process.exit(2);
  });
}
