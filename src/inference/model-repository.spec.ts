import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareVersions, resolveModelDir } from './model-repository';

describe('model repository', () => {
  let dir: string;
  const version = (v: string, json: unknown) => {
    mkdirSync(join(dir, 'chest', v), { recursive: true });
    writeFileSync(join(dir, 'chest', v, 'model.json'), JSON.stringify(json));
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cc-repo-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('orders versions numerically', () => {
    expect(['v10', 'v2', 'v1'].sort(compareVersions)).toEqual(['v1', 'v2', 'v10']);
  });

  it('resolves the newest version that did not fail its promotion gate', async () => {
    version('v1', { version: 'v1' });
    version('v2', { lineage: { parentVersion: 'v1', promotionGate: { passed: true } } });
    expect(await resolveModelDir(dir, 'chest')).toBe(join(dir, 'chest', 'v2'));
    version('v3', { lineage: { parentVersion: 'v2', promotionGate: { passed: false } } });
    expect(await resolveModelDir(dir, 'chest')).toBe(join(dir, 'chest', 'v2'));
    expect(await resolveModelDir(dir, 'chest', 'v3')).toBe(join(dir, 'chest', 'v3'));
  });

  it('answers MODEL_LOAD_FAILED for a task without versions', async () => {
    await expect(resolveModelDir(dir, 'wrist')).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
  });
});
