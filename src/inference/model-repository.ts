import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelLoadError } from './model-loader';

/** Orders version folder names: `v2` after `v1`, `v10` after `v9`, otherwise by name. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Folder of a model version in the repository (`<modelsDir>/<task>/<version>`); the newest when no version is given. */
export async function resolveModelDir(modelsDir: string, task: string, version?: string): Promise<string> {
  if (version) return join(modelsDir, task, version);
  let entries: string[];
  try {
    entries = (await readdir(join(modelsDir, task), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch (error) {
    throw new ModelLoadError('no model repository for this task', { task, modelsDir }, { cause: error });
  }
  if (!entries.length) throw new ModelLoadError('no model version for this task', { task, modelsDir });
  return join(modelsDir, task, entries.sort(compareVersions).at(-1)!);
}
