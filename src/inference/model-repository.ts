import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelLoadError } from './model-loader';

/** Orders version folder names: `v2` after `v1`, `v10` after `v9`, otherwise by name. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Version folders of a task (symbolic links to folders count), unsorted; empty when the task has none. */
export async function listVersions(modelsDir: string, task: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(modelsDir, task));
  } catch {
    return [];
  }
  const dirs = await Promise.all(
    names.map(async (n) =>
      (await stat(join(modelsDir, task, n)).catch(() => null))?.isDirectory() ? n : null,
    ),
  );
  return dirs.filter((n): n is string => n !== null);
}

/**
 * Folder of a model version in the repository (`<modelsDir>/<task>/<version>`). Without a version: the
 * newest one that did not fail its promotion gate against its parent (model.json
 * `lineage.promotionGate.passed: false`), as the registry would serve it on a fresh install.
 */
export async function resolveModelDir(modelsDir: string, task: string, version?: string): Promise<string> {
  if (version) return join(modelsDir, task, version);
  const entries = (await listVersions(modelsDir, task)).sort(compareVersions).reverse();
  if (!entries.length) throw new ModelLoadError('no model version for this task', { task, modelsDir });
  for (const v of entries)
    if (!(await failedPromotionGate(join(modelsDir, task, v)))) return join(modelsDir, task, v);
  return join(modelsDir, task, entries[0]!);
}

async function failedPromotionGate(dir: string): Promise<boolean> {
  try {
    const m = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
      lineage?: { promotionGate?: { passed?: boolean } };
    };
    return m.lineage?.promotionGate?.passed === false;
  } catch {
    return false;
  }
}
