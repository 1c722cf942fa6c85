import { join } from 'node:path';
import { readManifest, sampleRows } from '../../src/monitoring/drift-detection/training-manifest';

const ROOT = join(__dirname, '..', '..');

/** Films per source for a window of `size` whose mix matches `mix` (largest remainders). */
export function mixedCounts(mix: Record<string, number>, size: number): Record<string, number> {
  const total = Object.values(mix).reduce((s, v) => s + v, 0);
  const sources = Object.keys(mix).sort();
  const counts = sources.map((s) => Math.floor((mix[s]! / total) * size));
  const order = sources
    .map((s, i) => ({ i, rest: (mix[s]! / total) * size - counts[i]! }))
    .sort((a, b) => b.rest - a.rest);
  for (let k = 0; counts.reduce((s, v) => s + v, 0) < size; k++) counts[order[k % order.length]!.i]!++;
  return Object.fromEntries(sources.map((s, i) => [s, counts[i]!]));
}

/** Held-out (val/test) films of a chest version's manifest, by source, and its training split's source mix. */
export function chestHeldOut(version = 'v1'): {
  bySource: (source: string) => string[];
  trainMix: Record<string, number>;
} {
  const manifest = readManifest(join(ROOT, 'models', 'chest', version, 'manifest.csv'));
  const trainMix: Record<string, number> = {};
  for (const r of manifest) if (r.split === 'train') trainMix[r.source] = (trainMix[r.source] ?? 0) + 1;
  const heldOut = manifest.filter((r) => r.split === 'val' || r.split === 'test');
  return { bySource: (s) => heldOut.filter((r) => r.source === s).map((r) => r.path), trainMix };
}

/** `size` held-out chest films (paths under datasets/) with the version's training source mix. */
export function inDistributionFilms(size: number, seed: number, version = 'v1'): string[] {
  const { bySource, trainMix } = chestHeldOut(version);
  const counts = mixedCounts(trainMix, size);
  return Object.entries(counts).flatMap(([source, n], i) => sampleRows(bySource(source), n, seed * 31 + i));
}

/** `size` held-out NIH (adult) chest films. */
export function nihFilms(size: number, seed: number, version = 'v1'): string[] {
  return sampleRows(chestHeldOut(version).bySource('nih'), size, seed);
}

/** `size` held-out films of one source of a version's manifest (a window that shifts the source mix). */
export function sourceFilms(source: string, size: number, seed: number, version = 'v1'): string[] {
  return sampleRows(chestHeldOut(version).bySource(source), size, seed);
}
