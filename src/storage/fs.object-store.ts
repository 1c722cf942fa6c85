import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import * as path from 'node:path';

import {
  assertTtl,
  assertValidObjectKey,
  assertValidObjectPrefix,
  assertValidPutOptions,
  DEFAULT_CONTENT_TYPE,
  ObjectStat,
  ObjectStore,
  PutObjectOptions,
} from './object-store';
import { InvalidObjectKeyError, ObjectNotFoundError, StorageUnavailableError } from './storage-errors';

/**
 * The few `fs/promises` calls the filesystem store makes. Injected so a unit test can make one of
 * them fail (a crash between the temp write and the rename) without touching the real disk rules.
 */
export type FsPort = Pick<
  typeof nodeFs,
  'access' | 'mkdir' | 'open' | 'readFile' | 'readdir' | 'rename' | 'stat' | 'unlink'
>;

/** The real filesystem. */
export const nodeFsPort: FsPort = {
  access: nodeFs.access,
  mkdir: nodeFs.mkdir,
  open: nodeFs.open,
  readFile: nodeFs.readFile,
  readdir: nodeFs.readdir,
  rename: nodeFs.rename,
  stat: nodeFs.stat,
  unlink: nodeFs.unlink,
};

/**
 * Marks files that are not objects: temp files and metadata sidecars. `~` can never appear in a valid
 * key, so these names cannot collide with an object and `list` can skip them.
 */
const RESERVED_MARK = '~';
const META_SUFFIX = `${RESERVED_MARK}meta.json`;

interface Sidecar {
  contentType?: string;
  metadata?: Record<string, string>;
}

/**
 * {@link ObjectStore} on a local directory: the embedded default for development and single-node
 * installs. Object `a/b.dcm` is the file `<root>/a/b.dcm`. Its content type and metadata live in the
 * sidecar `<root>/a/b.dcm~meta.json`, except in the common case that needs none: no metadata and the
 * type its extension implies (`.dcm`, `.jpg`, `.png`; {@link DEFAULT_CONTENT_TYPE} for any other), so
 * an upload costs one file, one rename and two fsyncs (the file's and the directory's), not two of each.
 *
 * Writes are atomic: bytes go to a uniquely named temp file beside the target (same filesystem),
 * are fsync'ed, then `rename`d over the target, so readers see the old file or the new one, never a
 * part, and concurrent writers of one key cannot corrupt each other. A failed write removes its temp
 * file. Only a hard crash can leave a `.<name>~<uuid>.tmp` behind; such files are never listed or read.
 *
 * The sidecar is renamed into place after the data, so between the two renames a reader may see new
 * bytes with the previous content type. With content-addressed keys the same key always holds the same
 * bytes and type, so this window does not matter in practice.
 */
export class FsObjectStore implements ObjectStore {
  /** Absolute root directory. */
  readonly root: string;

  private constructor(
    root: string,
    private readonly fs: FsPort,
  ) {
    this.root = root;
  }

  /** Creates the root directory if needed and returns a store on it. */
  static async open(dir: string, fs: FsPort = nodeFsPort): Promise<FsObjectStore> {
    const root = path.resolve(dir);
    try {
      await fs.mkdir(root, { recursive: true });
    } catch (cause) {
      throw StorageUnavailableError.wrap('fs', 'open', cause);
    }
    return new FsObjectStore(root, fs);
  }

  async put(key: string, data: Buffer, opts: PutObjectOptions = {}): Promise<void> {
    const target = this.pathOf(key);
    assertValidPutOptions(opts);
    const dir = path.dirname(target);
    const sidecar = sidecarOf(key, opts);
    const dataTemp = this.tempPathFor(target);
    const metaTemp = sidecar ? this.tempPathFor(target + META_SUFFIX) : null;
    try {
      const files: [string, Buffer][] = [[dataTemp, data]];
      if (metaTemp && sidecar) files.push([metaTemp, Buffer.from(JSON.stringify(sidecar))]);
      await this.writeTemps(dir, files);
      await this.fs.rename(dataTemp, target);
      if (metaTemp) await this.fs.rename(metaTemp, target + META_SUFFIX);
      else await this.unlinkIfPresent(target + META_SUFFIX);
      await this.syncDir(dir);
    } catch (cause) {
      await this.unlinkIfPresent(dataTemp).catch(() => undefined);
      if (metaTemp) await this.unlinkIfPresent(metaTemp).catch(() => undefined);
      throw StorageUnavailableError.wrap('fs', 'put', cause, { key });
    }
  }

  async get(key: string): Promise<Buffer> {
    const target = this.pathOf(key);
    try {
      return await this.fs.readFile(target);
    } catch (cause) {
      if (isAbsent(cause)) throw ObjectNotFoundError.of(key, cause);
      throw StorageUnavailableError.wrap('fs', 'get', cause, { key });
    }
  }

  async stat(key: string): Promise<ObjectStat | null> {
    const target = this.pathOf(key);
    let size: number;
    try {
      const st = await this.fs.stat(target);
      if (!st.isFile()) return null;
      size = st.size;
    } catch (cause) {
      if (isAbsent(cause)) return null;
      throw StorageUnavailableError.wrap('fs', 'stat', cause, { key });
    }
    const sidecar = await this.readSidecar(target);
    return { size, contentType: sidecar ? (sidecar.contentType ?? DEFAULT_CONTENT_TYPE) : impliedType(key) };
  }

  async delete(key: string): Promise<void> {
    const target = this.pathOf(key);
    try {
      await this.unlinkIfPresent(target);
      await this.unlinkIfPresent(target + META_SUFFIX);
    } catch (cause) {
      throw StorageUnavailableError.wrap('fs', 'delete', cause, { key });
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidObjectPrefix(prefix);
    // Walk only the deepest directory the prefix names: `images/sha256/ab` walks `images/sha256/`.
    const dirPart = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const keys: string[] = [];
    try {
      await this.walk(path.join(this.root, dirPart), dirPart, prefix, keys);
    } catch (cause) {
      throw StorageUnavailableError.wrap('fs', 'list', cause);
    }
    return keys.sort();
  }

  async getUrl(key: string, ttlSeconds: number): Promise<string | null> {
    this.pathOf(key);
    assertTtl(ttlSeconds);
    return null;
  }

  async health(): Promise<void> {
    try {
      const st = await this.fs.stat(this.root);
      if (!st.isDirectory()) throw new Error('storage root is not a directory');
      await this.fs.access(this.root, fsConstants.R_OK | fsConstants.W_OK);
    } catch (cause) {
      throw StorageUnavailableError.wrap('fs', 'health', cause);
    }
  }

  /** Validates a key and maps it into the root; a key can never name a path outside it. */
  private pathOf(key: string): string {
    assertValidObjectKey(key);
    const target = path.resolve(this.root, key);
    if (!target.startsWith(this.root + path.sep))
      throw InvalidObjectKeyError.because('escapes the storage root', key.length);
    return target;
  }

  private tempPathFor(target: string): string {
    return path.join(path.dirname(target), `.${path.basename(target)}${RESERVED_MARK}${randomUUID()}.tmp`);
  }

  /**
   * Writes and syncs the temp files side by side (one fsync's wait, not two); all settle before the
   * caller renames or cleans up. The directory is created only when the first try finds it missing.
   */
  private async writeTemps(dir: string, files: [string, Buffer][]): Promise<void> {
    const attempt = async (): Promise<void> => {
      const written = await Promise.allSettled(files.map(([file, bytes]) => this.writeDurably(file, bytes)));
      const failed = written.filter((w): w is PromiseRejectedResult => w.status === 'rejected');
      if (failed.length > 0) throw failed[0]!.reason;
    };
    try {
      await attempt();
    } catch (err) {
      if ((err as NodeJS.ErrnoException | null)?.code !== 'ENOENT') throw err;
      await this.fs.mkdir(dir, { recursive: true });
      await attempt();
    }
  }

  private async writeDurably(file: string, data: Buffer): Promise<void> {
    const handle = await this.fs.open(file, 'wx', 0o640);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Persists the directory entry of a rename; best effort (some filesystems refuse to fsync a directory). */
  private async syncDir(dir: string): Promise<void> {
    try {
      const handle = await this.fs.open(dir, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      // Durability of the directory entry is best effort; the object itself is already complete.
    }
  }

  private async unlinkIfPresent(file: string): Promise<void> {
    try {
      await this.fs.unlink(file);
    } catch (err) {
      if (!isAbsent(err)) throw err;
    }
  }

  /** The object's sidecar; null when it has none. */
  private async readSidecar(target: string): Promise<Sidecar | null> {
    try {
      const parsed: unknown = JSON.parse((await this.fs.readFile(target + META_SUFFIX)).toString('utf8'));
      return typeof parsed === 'object' && parsed !== null ? (parsed as Sidecar) : {};
    } catch (cause) {
      if (isAbsent(cause)) return null;
      if (cause instanceof SyntaxError) return {};
      throw StorageUnavailableError.wrap('fs', 'stat', cause);
    }
  }

  private async walk(dir: string, relDir: string, prefix: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await this.fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isAbsent(err)) return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.name.includes(RESERVED_MARK)) continue;
      const rel = relDir + entry.name;
      if (entry.isDirectory()) {
        // Descend only where keys could still match the prefix.
        const relSlash = `${rel}/`;
        if (relSlash.startsWith(prefix) || prefix.startsWith(relSlash))
          await this.walk(path.join(dir, entry.name), relSlash, prefix, out);
      } else if (entry.isFile() && rel.startsWith(prefix)) {
        out.push(rel);
      }
    }
  }
}

/** Content types a key's extension implies (the extensions the services store images and heat maps under). */
const IMPLIED_TYPES: Readonly<Record<string, string>> = {
  dcm: 'application/dicom',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

/** The content type an object of `key` has when it has no sidecar: its extension's, else the default. */
function impliedType(key: string): string {
  const dot = key.lastIndexOf('.');
  const ext = dot > key.lastIndexOf('/') ? key.slice(dot + 1).toLowerCase() : '';
  return IMPLIED_TYPES[ext] ?? DEFAULT_CONTENT_TYPE;
}

/**
 * What the sidecar of a put must say, or null when the object needs none: no metadata, and the content
 * type (the default when none is given) is the one its key implies.
 */
function sidecarOf(key: string, opts: PutObjectOptions): Sidecar | null {
  const contentType = opts.contentType ?? DEFAULT_CONTENT_TYPE;
  const hasMetadata = opts.metadata !== undefined && Object.keys(opts.metadata).length > 0;
  if (!hasMetadata && contentType === impliedType(key)) return null;
  return { contentType, metadata: hasMetadata ? opts.metadata : undefined };
}

function isAbsent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
