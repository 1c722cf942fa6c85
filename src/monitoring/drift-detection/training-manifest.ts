import { readFileSync } from 'node:fs';
import { seededRandom } from '../../shared/random';

/** One film of a model's training manifest (`models/<task>/<version>/manifest.csv`). */
export interface ManifestRow {
  path: string;
  label: string;
  split: string;
  source: string;
}

/** Reads a training manifest (header `path,label,group,split,source`; no quoted commas in these files). */
export function readManifest(file: string): ManifestRow[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const cols = header!.split(',');
  const at = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`${file}: no ${name} column`);
    return i;
  };
  const [p, l, s, src] = [at('path'), at('label'), at('split'), at('source')];
  return lines.map((line) => {
    const f = line.split(',');
    return { path: f[p]!, label: f[l]!, split: f[s]!, source: f[src]! };
  });
}

/** A seeded sample without replacement (all rows when `n` ≥ their number). */
export function sampleRows<T>(rows: readonly T[], n: number, seed: number): T[] {
  const copy = [...rows];
  const random = seededRandom(seed);
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, Math.min(n, copy.length));
}
