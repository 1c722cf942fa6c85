import { createHash } from 'node:crypto';
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { readCsvRecords, writeCsv } from './csv';
import { runPython, TRAINER_DIR } from './trainer-runner';

/** One corrected image to add: where its de-identified copy lives and what it truly shows. */
export interface CorrectionItem {
  objectKey: string;
  trueLabel: string;
  /** Patient pseudonym: all images of a patient land in the same split. */
  group: string;
}

/** Inputs of {@link assembleRetrainingDataset}. */
export interface AssembleOptions {
  task: 'chest' | 'wrist';
  /** Folder of this run (the manifest and the corrections' training copies go here). */
  workDir: string;
  /** Shared data root (holds datasets/). */
  sharedDir: string;
  corrections: CorrectionItem[];
  /** Reads a retraining-area object and returns the training PNG (display gray, 16-bit). */
  renderCopy: (objectKey: string) => Promise<Buffer>;
  /** Share of the original patients kept (deterministic by patient hash); 1 keeps all. */
  baseFraction?: number;
  onLine?: (line: string) => void;
}

/** What was assembled. */
export interface AssembledDataset {
  manifestPath: string;
  manifestSha256: string;
  datasetsRoot: string;
  counts: {
    total: number;
    base: number;
    corrections: number;
    bySplit: Record<string, number>;
    correctionsBySplitLabel: Record<string, Record<string, number>>;
  };
}

/** Uniform number in [0, 1) from a string (stable across runs and machines). */
function unitHash(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32BE(0) / 0x1_0000_0000;
}

/** Split of a corrected patient: 80% train, 10% val, 10% test, by pseudonym hash (never crosses splits). */
function correctionSplit(group: string): 'train' | 'val' | 'test' {
  const u = unitHash(`split:${group}`);
  return u < 0.8 ? 'train' : u < 0.9 ? 'val' : 'test';
}

/**
 * Builds the retraining manifest (path,label,group,split,source): the original training data (the
 * trainer's own patient-grouped manifest builder, optionally a deterministic share of its patients)
 * plus the corrected images, rendered to 16-bit grayscale PNGs in the run folder and split by
 * patient pseudonym. Paths are relative to `<sharedDir>/datasets`, as the trainer and `evaluate` expect.
 */
export async function assembleRetrainingDataset(o: AssembleOptions): Promise<AssembledDataset> {
  // The real path: a correction's copy lives outside datasets/, so its path climbs out with `..`, and
  // the trainer's open() resolves `..` after following links. From a symlinked shared folder it would
  // climb out of the link's target instead (regression: FileNotFoundError in the trainer).
  const datasetsRoot = await realpath(resolve(o.sharedDir, 'datasets'));
  await mkdir(o.workDir, { recursive: true });
  const basePath = join(o.workDir, 'base-manifest.csv');
  await runPython([join(TRAINER_DIR, 'build_manifest.py'), '--task', o.task, '--out', basePath], o.onLine, {
    CARE_SHARED_DIR: resolve(o.sharedDir),
  });
  const fraction = o.baseFraction ?? 1;
  const base = readCsvRecords(await readFile(basePath, 'utf8')).filter(
    (r) => fraction >= 1 || unitHash(`base:${r.group}`) < fraction,
  );
  const rows: Record<string, string>[] = base.map((r) => ({
    path: r.path!,
    label: r.label!,
    group: r.group!,
    split: r.split!,
    source: r.source!,
  }));
  const bySplitLabel: Record<string, Record<string, number>> = {};
  for (const c of o.corrections) {
    const split = correctionSplit(c.group);
    const file = join(
      o.workDir,
      'corrections',
      c.trueLabel,
      `${createHash('sha256').update(c.objectKey).digest('hex').slice(0, 32)}.png`,
    );
    await mkdir(join(o.workDir, 'corrections', c.trueLabel), { recursive: true });
    await writeFile(file, await o.renderCopy(c.objectKey));
    rows.push({
      path: relative(datasetsRoot, resolve(file)),
      label: c.trueLabel,
      group: c.group,
      split,
      source: 'corrections',
    });
    bySplitLabel[split] ??= {};
    bySplitLabel[split]![c.trueLabel] = (bySplitLabel[split]![c.trueLabel] ?? 0) + 1;
  }
  const manifestPath = join(o.workDir, 'manifest.csv');
  const text = writeCsv(['path', 'label', 'group', 'split', 'source'], rows);
  await writeFile(manifestPath, text);
  const bySplit: Record<string, number> = {};
  for (const r of rows) bySplit[r.split!] = (bySplit[r.split!] ?? 0) + 1;
  return {
    manifestPath,
    manifestSha256: createHash('sha256').update(text).digest('hex'),
    datasetsRoot,
    counts: {
      total: rows.length,
      base: base.length,
      corrections: o.corrections.length,
      bySplit,
      correctionsBySplitLabel: bySplitLabel,
    },
  };
}
