import { readdir, stat } from 'node:fs/promises';
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

/** Folder of a model version in the repository (`<modelsDir>/<task>/<version>`); the newest when no version is given. */
export async function resolveModelDir(modelsDir: string, task: string, version?: string): Promise<string> {
  if (version) return join(modelsDir, task, version);
  const entries = await listVersions(modelsDir, task);
  if (!entries.length) throw new ModelLoadError('no model version for this task', { task, modelsDir });
  return join(modelsDir, task, entries.sort(compareVersions).at(-1)!);
}
