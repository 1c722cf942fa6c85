import type { AppConfig } from '../config/app-config';
import { FsObjectStore } from './fs.object-store';
import { MinioObjectStore } from './minio.object-store';
import type { ObjectStore } from './object-store';

export * from './content-key';
export * from './fs.object-store';
export * from './minio.object-store';
export * from './object-store';
export * from './storage-errors';

/**
 * Builds the configured {@link ObjectStore} and prepares it: creates the filesystem root, or the
 * MinIO bucket when it is missing. Throws `StorageUnavailableError` when that fails.
 */
export async function createObjectStore(config: AppConfig['storage']): Promise<ObjectStore> {
  switch (config.driver) {
    case 'fs':
      return FsObjectStore.open(config.dir);
    case 'minio': {
      const store = MinioObjectStore.fromConfig(config);
      await store.ensureBucket();
      return store;
    }
  }
}
