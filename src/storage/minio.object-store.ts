import { Client, ClientOptions } from 'minio';

import { AppError } from '../errors/app-error';
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
import { ObjectNotFoundError, StorageUnavailableError } from './storage-errors';

/** Connection settings of the S3/MinIO store; the `minio` member of `AppConfig['storage']`. */
export interface MinioStoreConfig {
  /** `http(s)://host[:port]`, no path. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

/** Tuning knobs; the defaults suit production. */
export interface MinioStoreOptions {
  /**
   * Objects larger than this are uploaded in parts (multipart upload). The `minio` default is 64 MiB;
   * uploads are capped by `MAX_UPLOAD_BYTES` (200 MiB by default), so large DICOMs do use multipart.
   */
  partSize?: number;
  /** How long `health()` waits for the endpoint before reporting it unavailable. */
  healthTimeoutMs?: number;
}

const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound']);
const BUCKET_ALREADY_THERE = new Set(['BucketAlreadyOwnedByYou', 'BucketAlreadyExists']);

/**
 * {@link ObjectStore} on an S3-compatible server (MinIO in production) through the `minio` client.
 * Atomicity comes from S3 itself: a PUT becomes visible whole or not at all. Presigned GET URLs let
 * viewers download images straight from the object store.
 */
export class MinioObjectStore implements ObjectStore {
  private readonly healthTimeoutMs: number;

  constructor(
    private readonly client: Client,
    /** Bucket holding every object of this store. */
    readonly bucket: string,
    private readonly region: string,
    options: Pick<MinioStoreOptions, 'healthTimeoutMs'> = {},
  ) {
    this.healthTimeoutMs = options.healthTimeoutMs ?? 5000;
  }

  /** Builds the `minio` client from configuration. Makes no request; call {@link ensureBucket} next. */
  static fromConfig(config: MinioStoreConfig, options: MinioStoreOptions = {}): MinioObjectStore {
    const url = new URL(config.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError('MinIO endpoint must be an http(s) URL');
    if (url.pathname !== '/' && url.pathname !== '')
      throw new TypeError('MinIO endpoint must not have a path');
    const useSSL = url.protocol === 'https:';
    const clientOptions: ClientOptions = {
      endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      // A fixed region spares the client its bucket-location look-ups (and lets presigning work offline).
      region: config.region,
      pathStyle: true,
    };
    if (options.partSize !== undefined) clientOptions.partSize = options.partSize;
    return new MinioObjectStore(new Client(clientOptions), config.bucket, config.region, options);
  }

  /** Creates the bucket when it does not exist yet; safe when several instances start together. */
  async ensureBucket(): Promise<void> {
    try {
      if (await this.client.bucketExists(this.bucket)) return;
      await this.client.makeBucket(this.bucket, this.region);
    } catch (err) {
      if (BUCKET_ALREADY_THERE.has(s3Code(err) ?? '')) return;
      throw this.unavailable('ensureBucket', err);
    }
  }

  async put(key: string, data: Buffer, opts: PutObjectOptions = {}): Promise<void> {
    assertValidObjectKey(key);
    assertValidPutOptions(opts);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(opts.metadata ?? {})) headers[`X-Amz-Meta-${name}`] = value;
    // Always sent: servers differ in their default (s3rver says binary/octet-stream), the stores must not.
    headers['Content-Type'] = opts.contentType ?? DEFAULT_CONTENT_TYPE;
    try {
      await this.client.putObject(this.bucket, key, data, data.length, headers);
    } catch (err) {
      throw this.unavailable('put', err, key);
    }
  }

  async get(key: string): Promise<Buffer> {
    assertValidObjectKey(key);
    try {
      const stream = await this.client.getObject(this.bucket, key);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (err) {
      if (NOT_FOUND_CODES.has(s3Code(err) ?? '')) throw ObjectNotFoundError.of(key, err);
      throw this.unavailable('get', err, key);
    }
  }

  async stat(key: string): Promise<ObjectStat | null> {
    assertValidObjectKey(key);
    try {
      const st = await this.client.statObject(this.bucket, key);
      const contentType = st.metaData['content-type'] as string | undefined;
      return { size: st.size, contentType: contentType ?? DEFAULT_CONTENT_TYPE };
    } catch (err) {
      if (NOT_FOUND_CODES.has(s3Code(err) ?? '')) return null;
      throw this.unavailable('stat', err, key);
    }
  }

  async delete(key: string): Promise<void> {
    assertValidObjectKey(key);
    try {
      await this.client.removeObject(this.bucket, key);
    } catch (err) {
      if (NOT_FOUND_CODES.has(s3Code(err) ?? '')) return;
      throw this.unavailable('delete', err, key);
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertValidObjectPrefix(prefix);
    const keys: string[] = [];
    try {
      for await (const item of this.client.listObjectsV2(this.bucket, prefix, true)) {
        if (item.name !== undefined) keys.push(item.name);
      }
    } catch (err) {
      throw this.unavailable('list', err);
    }
    return keys.sort();
  }

  async getUrl(key: string, ttlSeconds: number): Promise<string> {
    assertValidObjectKey(key);
    assertTtl(ttlSeconds);
    try {
      return await this.client.presignedGetObject(this.bucket, key, ttlSeconds);
    } catch (err) {
      throw this.unavailable('getUrl', err, key);
    }
  }

  async health(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.healthTimeoutMs} ms`)),
        this.healthTimeoutMs,
      );
    });
    try {
      const exists = await Promise.race([this.client.bucketExists(this.bucket), timeout]);
      if (!exists) throw new Error('bucket does not exist');
    } catch (err) {
      throw this.unavailable('health', err);
    } finally {
      clearTimeout(timer);
    }
  }

  private unavailable(operation: string, err: unknown, key?: string): AppError {
    if (err instanceof AppError) return err;
    const code = s3Code(err);
    return StorageUnavailableError.wrap('minio', operation, err, {
      ...(key !== undefined ? { key } : {}),
      ...(code !== undefined ? { s3Code: code } : {}),
    });
  }
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`, ...) or Node error code (`ECONNREFUSED`) of a failure. */
function s3Code(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
