import { Role } from '../../src/domain/enums';
import { FsObjectStore, ObjectStore, StorageUnavailableError } from '../../src/storage';
import { startTestApp, TestApp } from '../support/test-app';
import { fixtureFile } from '../support/shared-data';

/** An object store whose writes fail while `down` is set, as when MinIO is unreachable. */
class FlakyStore implements ObjectStore {
  down = false;
  constructor(private readonly inner: ObjectStore) {}
  put: ObjectStore['put'] = async (...args) => {
    if (this.down)
      throw new StorageUnavailableError('injected: object store down', { driver: 'test', operation: 'put' });
    return this.inner.put(...args);
  };
  get: ObjectStore['get'] = (...a) => this.inner.get(...a);
  stat: ObjectStore['stat'] = (...a) => this.inner.stat(...a);
  delete: ObjectStore['delete'] = (...a) => this.inner.delete(...a);
  list: ObjectStore['list'] = (...a) => this.inner.list(...a);
  getUrl: ObjectStore['getUrl'] = (...a) => this.inner.getUrl(...a);
  health: ObjectStore['health'] = () =>
    this.down ? Promise.reject(new StorageUnavailableError('down', {})) : this.inner.health();
}

describe('intake when the object store fails', () => {
  let t: TestApp;
  let store: FlakyStore;

  beforeAll(async () => {
    const dir = `/tmp/cc-flaky-${process.pid}`;
    store = new FlakyStore(await FsObjectStore.open(dir));
    t = await startTestApp({}, { objectStore: store });
  });
  afterAll(async () => t?.stop());

  it('answers STORAGE_UNAVAILABLE, records nothing, reports not ready, and works again once the store is back', async () => {
    const tech = await t.tokenFor(Role.TECHNICIAN);
    const post = () =>
      fetch(`${t.app.url}/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg', authorization: `Bearer ${tech}` },
        body: fixtureFile('chest/kermany/train/NORMAL/IM-0115-0001.jpeg'),
      });
    store.down = true;
    const res = await post();
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('STORAGE_UNAVAILABLE');
    const [{ n }] = await t.app.orm.em.getConnection().execute('select count(*)::int as n from upload');
    expect(n).toBe(0);
    expect((await fetch(`${t.app.url}/health/ready`)).status).toBe(503);
    store.down = false;
    expect((await post()).status).toBe(201);
    expect((await fetch(`${t.app.url}/health/ready`)).status).toBe(200);
  });
});
