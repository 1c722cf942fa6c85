import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import { FsObjectStore, FsPort, nodeFsPort } from './fs.object-store';
import { StorageUnavailableError } from './storage-errors';

/** Every file under `dir`, temp files and sidecars included, relative to it. */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('FsObjectStore atomicity', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'care-fs-store-spec-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  /** A real filesystem whose `rename` dies as a crash between the temp write and the rename would. */
  function crashingRename(): { port: FsPort; crash: Error; renames: jest.Mock } {
    const crash = Object.assign(new Error('simulated crash before rename'), { code: 'EIO' });
    const renames = jest.fn(async () => {
      throw crash;
    });
    return { port: { ...nodeFsPort, rename: renames }, crash, renames };
  }

  it('leaves no object and no temp file when the rename after the temp write fails', async () => {
    const { port, crash, renames } = crashingRename();
    const store = await FsObjectStore.open(root, port);

    const err = await store
      .put('images/ab/cd/new.dcm', Buffer.from('DICM-new'), { contentType: 'application/dicom' })
      .catch((e: unknown) => e);

    expect(renames).toHaveBeenCalled();
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect(err).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      details: { operation: 'put', key: 'images/ab/cd/new.dcm' },
    });
    expect((err as Error).cause).toBe(crash);
    expect(await store.stat('images/ab/cd/new.dcm')).toBeNull();
    await expect(store.get('images/ab/cd/new.dcm')).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    expect(await store.list('')).toEqual([]);
    expect(await allFiles(root)).toEqual([]);
  });

  it('keeps the previous version intact when an overwrite fails before its rename', async () => {
    const healthy = await FsObjectStore.open(root);
    await healthy.put('a/obj.bin', Buffer.from('old'), { contentType: 'text/plain' });

    const { port } = crashingRename();
    const crashing = await FsObjectStore.open(root, port);
    await expect(
      crashing.put('a/obj.bin', Buffer.from('new bytes'), { contentType: 'image/png' }),
    ).rejects.toBeInstanceOf(StorageUnavailableError);

    expect((await healthy.get('a/obj.bin')).toString()).toBe('old');
    expect(await healthy.stat('a/obj.bin')).toEqual({ size: 3, contentType: 'text/plain' });
    expect(await allFiles(root)).toEqual(['a/obj.bin', 'a/obj.bin~meta.json']);
  });

  it('removes its temp file when the write itself fails', async () => {
    const failure = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    const port: FsPort = {
      ...nodeFsPort,
      open: (async (...args: Parameters<typeof nodeFsPort.open>) => {
        const handle = await nodeFsPort.open(...args);
        if (args[1] === 'wx') {
          handle.sync = async () => {
            throw failure;
          };
        }
        return handle;
      }) as FsPort['open'],
    };
    const store = await FsObjectStore.open(root, port);

    const err = await store.put('x/y.bin', Buffer.alloc(1024, 7)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect((err as Error).cause).toBe(failure);
    expect(await allFiles(root)).toEqual([]);
  });

  it('never lists temp files a crashed process left behind', async () => {
    const store = await FsObjectStore.open(root);
    await store.put('a/kept.bin', Buffer.from('x'));
    await fs.writeFile(path.join(root, 'a', '.kept.bin~0b7e7d0e-5d7a-4a43-9d0e-3a0c4b7a1f00.tmp'), 'partial');
    expect(await store.list('a/')).toEqual(['a/kept.bin']);
  });
});
