import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread from `<dir>/<name>.js` when the code runs compiled (`dist/`), or from
 * `<dir>/<name>.ts` through a two-line bootstrap that registers @swc-node first when it runs from
 * TypeScript sources (jest, `node -r @swc-node/register`).
 */
export function startWorkerScript(dir: string, name: string, options: WorkerOptions = {}): Worker {
  const compiled = join(dir, `${name}.js`);
  if (existsSync(compiled)) return new Worker(compiled, options);
  const source = join(dir, `${name}.ts`);
  if (!existsSync(source)) throw new Error(`worker script ${name} not found in ${dir}`);
  const bootstrap = `require(${JSON.stringify(require.resolve('@swc-node/register'))});\nrequire(${JSON.stringify(source)});`;
  return new Worker(bootstrap, { ...options, eval: true });
}
