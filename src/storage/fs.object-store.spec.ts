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

describe('FsObjectStore files per put', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'care-fs-store-files-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  /** The real filesystem, counting the calls that cost a system call or an fsync each. */
  function countingPort(): { port: FsPort; calls: Record<'open' | 'mkdir' | 'rename' | 'unlink', number> } {
    const calls = { open: 0, mkdir: 0, rename: 0, unlink: 0 };
    const port: FsPort = {
      ...nodeFsPort,
      open: (async (...a: Parameters<FsPort['open']>) => (
        calls.open++,
        nodeFsPort.open(...a)
      )) as FsPort['open'],
      mkdir: (async (...a: Parameters<FsPort['mkdir']>) => (
        calls.mkdir++,
        nodeFsPort.mkdir(...a)
      )) as FsPort['mkdir'],
      rename: async (...a) => (calls.rename++, nodeFsPort.rename(...a)),
      unlink: async (...a) => (calls.unlink++, nodeFsPort.unlink(...a)),
    };
    return { port, calls };
  }

  it('writes one file, and no sidecar, for an image stored with the type its extension implies', async () => {
    const { port, calls } = countingPort();
    const store = await FsObjectStore.open(root, port);
    calls.mkdir = 0;
    await store.put('images/ab/film.jpg', Buffer.from('JFIF'), { contentType: 'image/jpeg' });
    // A new directory: the first open finds it missing, then mkdir, the file, the directory (fsync each).
    expect(calls).toEqual({ open: 3, mkdir: 1, rename: 1, unlink: 1 });
    await store.put('images/ab/other.png', Buffer.from('PNG'), { contentType: 'image/png' });
    expect(calls).toEqual({ open: 5, mkdir: 1, rename: 2, unlink: 2 }); // the directory exists: no mkdir
    await store.put('images/ab/scan.dcm', Buffer.from('DICM'), { contentType: 'application/dicom' });
    expect(await allFiles(root)).toEqual(['images/ab/film.jpg', 'images/ab/other.png', 'images/ab/scan.dcm']);
    expect(await store.stat('images/ab/film.jpg')).toEqual({ size: 4, contentType: 'image/jpeg' });
    expect(await store.stat('images/ab/scan.dcm')).toEqual({ size: 4, contentType: 'application/dicom' });
  });

  it("keeps a sidecar where the type differs from the extension's or metadata is given, and drops a stale one", async () => {
    const store = await FsObjectStore.open(root);
    await store.put('a/film.jpg', Buffer.from('x'));
    expect(await allFiles(root)).toEqual(['a/film.jpg', 'a/film.jpg~meta.json']);
    expect(await store.stat('a/film.jpg')).toMatchObject({ contentType: 'application/octet-stream' });
    await store.put('a/film.jpg', Buffer.from('x'), { contentType: 'image/jpeg' });
    expect(await allFiles(root)).toEqual(['a/film.jpg']);
    expect(await store.stat('a/film.jpg')).toMatchObject({ contentType: 'image/jpeg' });
    await store.put('a/film.jpg', Buffer.from('x'), {
      contentType: 'image/jpeg',
      metadata: { label: 'normal' },
    });
    expect(await allFiles(root)).toEqual(['a/film.jpg', 'a/film.jpg~meta.json']);
    await store.put('a/blob.bin', Buffer.from('y'));
    expect(await allFiles(root)).toContain('a/blob.bin');
    expect(await allFiles(root)).not.toContain('a/blob.bin~meta.json');
    expect(await store.stat('a/blob.bin')).toMatchObject({ contentType: 'application/octet-stream' });
  });

  it('creates a directory removed behind its back again', async () => {
    const { port, calls } = countingPort();
    const store = await FsObjectStore.open(root, port);
    await store.put('d/e/one.png', Buffer.from('1'), { contentType: 'image/png' });
    await fs.rm(path.join(root, 'd'), { recursive: true });
    await store.put('d/e/two.png', Buffer.from('2'), { contentType: 'image/png' });
    expect(await store.get('d/e/two.png')).toEqual(Buffer.from('2'));
    expect(await allFiles(root)).toEqual(['d/e/two.png']);
    expect(calls.mkdir).toBe(3); // open, then once per put that found its directory missing
  });
});
