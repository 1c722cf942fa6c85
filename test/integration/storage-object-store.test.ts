/**
 * One contract for every ObjectStore, run against the filesystem store (temp directory) and against
 * the MinIO client talking to an in-process s3rver on 127.0.0.1, port 0. A store that passes it can be
 * swapped for another without a service noticing.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  contentAddressedKey,
  createObjectStore,
  DEFAULT_CONTENT_TYPE,
  FsObjectStore,
  InvalidObjectKeyError,
  MAX_OBJECT_KEY_LENGTH,
  MAX_OBJECT_KEY_SEGMENT_LENGTH,
  ObjectNotFoundError,
  ObjectStore,
  PutObjectOptions,
  sha256,
  StorageUnavailableError,
} from '../../src/storage';

/** The little of s3rver 3.x the tests use (the package ships no types). */
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
}) => S3rverInstance;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as S3rverCtor;

/** A store under test and how to dispose of it. */
interface StoreFixture {
  store: ObjectStore;
  /** Whether `getUrl` must return a URL (true) or `null` (false). */
  servesUrls: boolean;
  dispose(): Promise<void>;
}

const INVALID_KEYS: Array<[string, string]> = [
  ['traversal', '../x'],
  ['inner traversal', 'images/../../etc/passwd'],
  ['double dot inside a name', 'a..b'],
  ['absolute', '/etc/passwd'],
  ['empty', ''],
  ['space', 'a b'],
  ['backslash', 'a\\b'],
  ['non-ASCII', 'images/é.dcm'],
  ['query characters', 'a?b=c'],
  ['NUL', 'a\u0000b'],
  ['newline', 'a\nb'],
  ['empty segment', 'a//b'],
  ['trailing slash', 'a/'],
  ['dot segment', 'a/./b'],
  ['too long', 'k/'.repeat(MAX_OBJECT_KEY_LENGTH / 2) + 'k'],
  ['segment too long', 'k'.repeat(MAX_OBJECT_KEY_SEGMENT_LENGTH + 1)],
];

/** What a store can promise beyond the interface's types. */
interface StoreCapabilities {
  /**
   * Overwriting an existing key is atomic for concurrent readers. True of the filesystem store, MinIO
   * and S3; false of s3rver, whose filesystem back end truncates and rewrites the object file in place.
   */
  atomicOverwrites: boolean;
}

/**
 * The behaviour every {@link ObjectStore} owes its callers. `factory` is called once per suite; tests
 * isolate themselves with unique key prefixes.
 */
function describeObjectStoreContract(
  name: string,
  factory: () => Promise<StoreFixture>,
  capabilities: StoreCapabilities,
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: ObjectStore;
    let counter = 0;
    /** A fresh prefix so tests never see each other's objects. */
    const ns = (): string => `t${++counter}-${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.dispose();
    });

    it('round-trips binary data with its content type', async () => {
      const bytes = Buffer.concat([
        Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        randomBytes(200_000),
      ]);
      const key = `${ns()}/${contentAddressedKey('images', sha256(bytes), 'dcm').replace(/^images\//, '')}`;
      await store.put(key, bytes, { contentType: 'application/dicom', metadata: { 'study-id': '42' } });

      const back = await store.get(key);
      expect(back.equals(bytes)).toBe(true);
      expect(await store.stat(key)).toEqual({ size: bytes.length, contentType: 'application/dicom' });
    });

    it('stores an empty object', async () => {
      const key = `${ns()}/empty.bin`;
      await store.put(key, Buffer.alloc(0));
      expect((await store.get(key)).length).toBe(0);
      expect(await store.stat(key)).toMatchObject({ size: 0 });
    });

    it('accepts a key of exactly the maximum length and segments of the maximum length', async () => {
      const prefix = `${ns()}/`;
      const segment = 'k'.repeat(MAX_OBJECT_KEY_SEGMENT_LENGTH);
      let key = prefix;
      while (key.length + segment.length + 1 < MAX_OBJECT_KEY_LENGTH) key += `${segment}/`;
      key += 'k'.repeat(MAX_OBJECT_KEY_LENGTH - key.length);
      expect(key).toHaveLength(MAX_OBJECT_KEY_LENGTH);
      await store.put(key, Buffer.from('x'), { contentType: 'text/plain' });
      expect((await store.get(key)).toString()).toBe('x');
      expect(await store.stat(key)).toEqual({ size: 1, contentType: 'text/plain' });
      expect(await store.list(prefix)).toEqual([key]);
    });

    it('is idempotent for the same key and bytes, and replaces different bytes', async () => {
      const dir = ns();
      const key = `${dir}/obj.bin`;
      const a = randomBytes(10_000);
      await store.put(key, a, { contentType: 'application/octet-stream' });
      await store.put(key, a, { contentType: 'application/octet-stream' });
      expect((await store.get(key)).equals(a)).toBe(true);
      expect(await store.list(`${dir}/`)).toEqual([key]);

      const b = randomBytes(5_000);
      await store.put(key, b, { contentType: 'image/png' });
      expect((await store.get(key)).equals(b)).toBe(true);
      expect(await store.stat(key)).toEqual({ size: b.length, contentType: 'image/png' });
      expect(await store.list(`${dir}/`)).toEqual([key]);
    });

    it('reports a missing key as OBJECT_NOT_FOUND from get and null from stat', async () => {
      const key = `${ns()}/missing.dcm`;
      const err = await store.get(key).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectNotFoundError);
      expect(err).toMatchObject({ code: 'OBJECT_NOT_FOUND', details: { key } });
      expect(await store.stat(key)).toBeNull();
    });

    it('does not treat a "directory" of other keys as an object', async () => {
      const dir = ns();
      await store.put(`${dir}/sub/leaf`, Buffer.from('x'));
      await expect(store.get(`${dir}/sub`)).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
      expect(await store.stat(`${dir}/sub`)).toBeNull();
    });

    it('lists keys by plain string prefix, sorted', async () => {
      const dir = ns();
      const keys = [`${dir}/a/2`, `${dir}/a/1`, `${dir}/ab`, `${dir}/b/1`, `${dir}/a/deep/er/3`];
      await Promise.all(keys.map((k) => store.put(k, Buffer.from(k))));

      expect(await store.list(`${dir}/a/`)).toEqual([`${dir}/a/1`, `${dir}/a/2`, `${dir}/a/deep/er/3`]);
      expect(await store.list(`${dir}/a`)).toEqual([
        `${dir}/a/1`,
        `${dir}/a/2`,
        `${dir}/a/deep/er/3`,
        `${dir}/ab`,
      ]);
      expect(await store.list(`${dir}/`)).toEqual([...keys].sort());
      expect(await store.list(`${dir}/a/deep/e`)).toEqual([`${dir}/a/deep/er/3`]);
      expect(await store.list(`${dir}/nothing/`)).toEqual([]);
      expect(await store.list(`${dir}-nothing`)).toEqual([]);
      expect(await store.list('')).toEqual(expect.arrayContaining(keys));
    });

    it('deletes an object, and deleting a missing one is not an error', async () => {
      const dir = ns();
      const key = `${dir}/gone.bin`;
      await store.put(key, Buffer.from('bye'), { contentType: 'text/plain' });
      await store.put(`${dir}/kept.bin`, Buffer.from('stay'));
      await store.delete(key);

      await expect(store.get(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.stat(key)).toBeNull();
      expect(await store.list(`${dir}/`)).toEqual([`${dir}/kept.bin`]);
      await expect(store.delete(key)).resolves.toBeUndefined();
      await expect(store.delete(`${dir}/never-existed`)).resolves.toBeUndefined();

      // A re-put after delete must not inherit the old content type.
      await store.put(key, Buffer.from('again'));
      expect(await store.stat(key)).toEqual({ size: 5, contentType: DEFAULT_CONTENT_TYPE });
    });

    it("reports the type a put gave, whatever the key's extension says", async () => {
      const dir = ns();
      const png = `${dir}/map.png`;
      await store.put(png, Buffer.from('PNG'), { contentType: 'image/png' });
      expect(await store.stat(png)).toEqual({ size: 3, contentType: 'image/png' });
      await store.put(png, Buffer.from('text'), { contentType: 'text/plain' });
      expect(await store.stat(png)).toEqual({ size: 4, contentType: 'text/plain' });
      await store.put(png, Buffer.from('PNG2'), { contentType: 'image/png' });
      expect(await store.stat(png)).toEqual({ size: 4, contentType: 'image/png' });
      // No type given: the default, not the one `.jpg` suggests.
      const jpg = `${dir}/film.jpg`;
      await store.put(jpg, Buffer.from('JFIF'));
      expect(await store.stat(jpg)).toEqual({ size: 4, contentType: DEFAULT_CONTENT_TYPE });
      await store.put(jpg, Buffer.from('JFIF'), { contentType: 'image/jpeg' });
      expect(await store.stat(jpg)).toEqual({ size: 4, contentType: 'image/jpeg' });
    });

    describe.each(INVALID_KEYS)('rejects an invalid key (%s) as INVALID_OBJECT_KEY', (_label, bad) => {
      const operations: Array<[string, (s: ObjectStore) => Promise<unknown>]> = [
        ['put', (s) => s.put(bad, Buffer.from('x'))],
        ['get', (s) => s.get(bad)],
        ['stat', (s) => s.stat(bad)],
        ['delete', (s) => s.delete(bad)],
        ['getUrl', (s) => s.getUrl(bad, 60)],
      ];
      it.each(operations)('in %s', async (_op, call) => {
        const err = await call(store).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidObjectKeyError);
        expect(err).toMatchObject({ code: 'INVALID_OBJECT_KEY' });
      });
    });

    it('rejects unusable put options before writing anything', async () => {
      const key = `${ns()}/opts.bin`;
      const unusable: PutObjectOptions[] = [
        { contentType: 'text/plain; charset=é' },
        { contentType: '' },
        { metadata: { 'Patient Name': 'x' } },
        { metadata: { 'study-id': 'line\nbreak' } },
        { metadata: { big: 'x'.repeat(3000) } },
      ];
      for (const opts of unusable) {
        await expect(store.put(key, Buffer.from('x'), opts)).rejects.toBeInstanceOf(TypeError);
      }
      expect(await store.stat(key)).toBeNull();
    });

    it('rejects an invalid list prefix', async () => {
      for (const bad of ['../', '/abs', 'a b', 'a//']) {
        await expect(store.list(bad)).rejects.toMatchObject({ code: 'INVALID_OBJECT_KEY' });
      }
    });

    it('lets concurrent puts of the same key and bytes all succeed', async () => {
      const dir = ns();
      const key = `${dir}/same.bin`;
      const bytes = randomBytes(256 * 1024);
      await Promise.all(
        Array.from({ length: 16 }, () => store.put(key, bytes, { contentType: 'application/dicom' })),
      );

      expect((await store.get(key)).equals(bytes)).toBe(true);
      expect(await store.list(`${dir}/`)).toEqual([key]);
      expect(await store.stat(key)).toEqual({ size: bytes.length, contentType: 'application/dicom' });
    });

    (capabilities.atomicOverwrites ? it : it.skip)(
      'never lets a reader see a partial object while writers race',
      async () => {
        const key = `${ns()}/racy.bin`;
        const a = randomBytes(512 * 1024);
        const b = randomBytes(300 * 1024);
        await store.put(key, a);
        const writers = Array.from({ length: 8 }, (_, i) => store.put(key, i % 2 ? a : b));
        const readers = Array.from({ length: 16 }, () => store.get(key));
        const [, seen] = await Promise.all([Promise.all(writers), Promise.all(readers)]);
        for (const got of seen) expect(got.equals(a) || got.equals(b)).toBe(true);
      },
    );

    it('gives a presigned URL that downloads the object with plain fetch, or null when the API serves objects', async () => {
      const key = `${ns()}/download.bin`;
      const bytes = randomBytes(4096);
      await store.put(key, bytes, { contentType: 'application/dicom' });
      const url = await store.getUrl(key, 60);
      if (!fixture.servesUrls) {
        expect(url).toBeNull();
        return;
      }
      expect(typeof url).toBe('string');
      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/dicom');
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it('rejects a URL lifetime outside 1 s..7 days', async () => {
      await expect(store.getUrl('x/y', 0)).rejects.toBeInstanceOf(RangeError);
      await expect(store.getUrl('x/y', 8 * 24 * 3600)).rejects.toBeInstanceOf(RangeError);
    });

    it('reports healthy', async () => {
      await expect(store.health()).resolves.toBeUndefined();
    });
  });
}

/** A fresh temporary directory, removed by the caller. */
async function tempDir(label: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `care-storage-${label}-`));
}

/** Starts s3rver on 127.0.0.1 and an ephemeral port, storing under a temp directory. */
async function startS3rver(): Promise<{ server: S3rverInstance; endpoint: string; dir: string }> {
  const dir = await tempDir('s3rver');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  const { port } = await server.run();
  return { server, endpoint: `http://127.0.0.1:${port}`, dir };
}

/** s3rver's fixed credentials. */
const S3RVER_CREDENTIALS = { accessKey: 'S3RVER', secretKey: 'S3RVER' };

describeObjectStoreContract(
  'filesystem',
  async () => {
    const dir = await tempDir('fs');
    const store = await createObjectStore({ driver: 'fs', dir: path.join(dir, 'objects') });
    return { store, servesUrls: false, dispose: () => fs.rm(dir, { recursive: true, force: true }) };
  },
  { atomicOverwrites: true },
);

describeObjectStoreContract(
  'MinIO client against s3rver',
  async () => {
    const s3 = await startS3rver();
    // Objects here stay far below the client's 64 MiB part size, so every put is a single PUT. s3rver 3.7
    // cannot take the client's multipart path: it answers ListMultipartUploads (which the client calls
    // first) with NotImplemented. Real MinIO/S3 handle multipart; nothing here exercises it.
    const store = await createObjectStore({
      driver: 'minio',
      endpoint: s3.endpoint,
      ...S3RVER_CREDENTIALS,
      bucket: 'contract',
      region: 'us-east-1',
    });
    return {
      store,
      servesUrls: true,
      dispose: async () => {
        await s3.server.close();
        await fs.rm(s3.dir, { recursive: true, force: true });
      },
    };
  },
  { atomicOverwrites: false },
);

describe('filesystem store specifics', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('fs-specific');
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('cannot be made to write outside its root', async () => {
    const root = path.join(dir, 'root');
    const store = await FsObjectStore.open(root);
    for (const key of ['../escape', '../../escape', '/tmp/escape', 'a/../../escape']) {
      await expect(store.put(key, Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_OBJECT_KEY' });
    }
    expect(await fs.readdir(dir)).toEqual(['root']);
    expect(await fs.readdir(root)).toEqual([]);
  });

  it('lays objects out as files under the root, leaving no temp files behind', async () => {
    const store = await FsObjectStore.open(dir);
    const bytes = Buffer.from('DICM');
    const key = contentAddressedKey('images', sha256(bytes), 'dcm');
    await store.put(key, bytes, { contentType: 'application/dicom' });
    expect(await fs.readFile(path.join(dir, key), 'utf8')).toBe('DICM');
    expect(await fs.readdir(path.dirname(path.join(dir, key)))).toEqual([path.basename(key)]);
  });

  it('reports unhealthy when its root is gone', async () => {
    const root = path.join(dir, 'root');
    const store = await FsObjectStore.open(root);
    await fs.rm(root, { recursive: true });
    await expect(store.health()).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});

describe('MinIO store specifics (s3rver)', () => {
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  let running = false;
  beforeAll(async () => {
    s3 = await startS3rver();
    running = true;
  });
  afterAll(async () => {
    if (running) await s3.server.close();
    await fs.rm(s3.dir, { recursive: true, force: true });
  });

  it('creates a missing bucket at start-up, and starting twice is harmless', async () => {
    const config = {
      driver: 'minio' as const,
      endpoint: s3.endpoint,
      ...S3RVER_CREDENTIALS,
      bucket: 'fresh-bucket',
      region: 'us-east-1',
    };
    const store = await createObjectStore(config);
    await expect(store.health()).resolves.toBeUndefined();
    await expect(createObjectStore(config)).resolves.toBeDefined();
    expect(await fs.readdir(s3.dir)).toContain('fresh-bucket');
  });

  it('presigns a GET for exactly the bucket, key and lifetime asked for', async () => {
    const store = await createObjectStore({
      driver: 'minio',
      endpoint: s3.endpoint,
      ...S3RVER_CREDENTIALS,
      bucket: 'presign',
      region: 'us-east-1',
    });
    const url = new URL((await store.getUrl('a/b.bin', 90))!);
    expect(url.origin).toBe(s3.endpoint);
    expect(url.pathname).toBe('/presign/a/b.bin');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('90');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    // No object there: the URL is still issued (getUrl does not stat), and s3rver answers 404.
    const res = await fetch(url);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });

  it('maps an unknown access key to STORAGE_UNAVAILABLE with the S3 code', async () => {
    // s3rver checks the access key id but not V4 signatures, so a wrong secret would go unnoticed.
    // The first request is a HEAD (bucketExists): no body, so the client can only say AccessDenied.
    const err = await createObjectStore({
      driver: 'minio',
      endpoint: s3.endpoint,
      accessKey: 'NOBODY',
      secretKey: 'wrong',
      bucket: 'denied',
      region: 'us-east-1',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect(err).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      details: { driver: 'minio', operation: 'ensureBucket', s3Code: 'AccessDenied' },
    });
  });

  it('reports STORAGE_UNAVAILABLE, with the connection error as cause, once the endpoint is down', async () => {
    const store = await createObjectStore({
      driver: 'minio',
      endpoint: s3.endpoint,
      ...S3RVER_CREDENTIALS,
      bucket: 'going-down',
      region: 'us-east-1',
    });
    await store.put('k/v', Buffer.from('v'));
    await expect(store.health()).resolves.toBeUndefined();

    await s3.server.close();
    running = false;

    const err = await store.health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', details: { operation: 'health' } });
    // A pooled keep-alive socket may be reset rather than refused, depending on timing.
    expect((err as Error).cause).toMatchObject({ code: expect.stringMatching(/^ECONN(REFUSED|RESET)$/) });
    await expect(store.get('k/v')).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      details: { s3Code: 'ECONNREFUSED' },
    });
    await expect(store.put('k/w', Buffer.from('w'))).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(store.list('k/')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(store.stat('k/v')).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
