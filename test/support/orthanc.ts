import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's orthanc and orthanc-dicomweb packages put the server and the plugin. */
export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
export const ORTHANC_DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** True when Orthanc and its DICOMweb plugin are installed. */
export function orthancInstalled(): boolean {
  return existsSync(ORTHANC_BINARY) && existsSync(ORTHANC_DICOMWEB_PLUGIN);
}

/** A private Orthanc on loopback with its own storage folder and ports, killed by `stop`. */
export interface OrthancProcess {
  /** REST root, e.g. http://127.0.0.1:PORT */
  url: string;
  /** DICOMweb root (url + /dicom-web). */
  dicomWebUrl: string;
  username: string;
  password: string;
  child: ChildProcess;
  /** What Orthanc wrote to stdout/stderr (for failure messages). */
  logs: string[];
  /** Authenticated fetch against the REST API. */
  request(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (bound and released; Orthanc takes it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts Orthanc with a temporary configuration: HTTP and DICOM ports chosen free, storage and index
 * in a temporary folder, the DICOMweb plugin at /dicom-web/, loopback only, HTTP Basic auth.
 * `dicomWebServers` registers peers Orthanc can push to (`POST /dicom-web/servers/{name}/stow`).
 * Never touches a system Orthanc (which would listen on 8042/4242 with /var/lib/orthanc).
 */
export async function startOrthanc(
  dicomWebServers: Record<string, { Url: string; HttpHeaders?: Record<string, string> }> = {},
): Promise<OrthancProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-orthanc-'));
  const [httpPort, dicomPort] = [await freePort(), await freePort()];
  const username = 'care';
  const password = 'care-test-password';
  const config = {
    Name: 'CareCompanionTest',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: 'CARETEST',
    RemoteAccessAllowed: false,
    AuthenticationEnabled: true,
    RegisteredUsers: { [username]: password },
    Plugins: [ORTHANC_DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/', Servers: dicomWebServers },
    HttpTimeout: 60,
  };
  const configFile = join(dir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(ORTHANC_BINARY, ['--verbose', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  child.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const url = `http://127.0.0.1:${httpPort}`;
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const request = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: auth, ...(init.headers as Record<string, string>) },
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`Orthanc exited (${child.exitCode}):\n${logs.join('').slice(-4000)}`);
    }
    const ok = await request('/system').then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Orthanc did not answer in 30 s:\n${logs.join('').slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, dicomWebUrl: `${url}/dicom-web`, username, password, child, logs, request, stop };
}
