import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpDicomWebClient } from './dicomweb.client';
import { buildMultipartRelated } from './multipart';

/** A scripted DICOMweb peer on a real loopback socket. */
async function peer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web` };
}

const client = (baseUrl: string, maxResponseBytes = 1024 * 1024) =>
  new HttpDicomWebClient({ baseUrl, username: 'u', password: 'p', timeoutMs: 2000, maxResponseBytes });

describe('HttpDicomWebClient', () => {
  let server: Server | null = null;
  afterEach(async () => {
    if (server) await new Promise((r) => server!.close(r));
    server = null;
  });

  it('sends QIDO-RS match keys with Basic auth and parses DICOM JSON', async () => {
    let seen: { url?: string; auth?: string; accept?: string } = {};
    const p = await peer((req, res) => {
      seen = { url: req.url, auth: req.headers.authorization, accept: req.headers.accept };
      res.writeHead(200, { 'content-type': 'application/dicom+json' });
      res.end(JSON.stringify([{ '0020000D': { vr: 'UI', Value: ['1.2.3'] } }]));
    });
    server = p.server;
    const found = await client(p.url).searchStudies({ PatientID: 'P1', ModalitiesInStudy: 'CR', limit: 5 });
    expect(found).toHaveLength(1);
    expect(seen.url).toMatch(
      /^\/dicom-web\/studies\?PatientID=P1&ModalitiesInStudy=CR&limit=5&includefield=/,
    );
    expect(seen.auth).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(seen.accept).toBe('application/dicom+json');
  });

  it('reads a WADO-RS multipart answer part by part and asks for the stored transfer syntax', async () => {
    const files = [Buffer.alloc(300_000, 1), Buffer.alloc(10, 2)];
    let accept: string | undefined;
    const p = await peer((req, res) => {
      accept = req.headers.accept;
      const { body, contentType } = buildMultipartRelated(files, 'application/dicom');
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
    });
    server = p.server;
    const got = await client(p.url).retrieveStudy('1.2.3');
    expect(got.map((b) => b.length)).toEqual([300_000, 10]);
    expect(accept).toContain('transfer-syntax=*');
  });

  it.each([
    [
      'a response over the size cap',
      'PACS_RESPONSE_TOO_LARGE',
      (res: ServerResponse) => res.end(Buffer.alloc(2 * 1024 * 1024)),
    ],
    ['a query answer that is not JSON', 'PACS_BAD_RESPONSE', (res: ServerResponse) => res.end('<html>')],
    [
      'an error status',
      'PACS_REJECTED',
      (res: ServerResponse) => {
        res.statusCode = 401;
        res.end();
      },
    ],
  ])('turns %s into %s', async (_name, code, answer) => {
    const p = await peer((_req, res) => answer(res));
    server = p.server;
    await expect(client(p.url).searchStudies({})).rejects.toMatchObject({ code });
  });

  it('refuses a WADO-RS part that is not application/dicom', async () => {
    const p = await peer((_req, res) => {
      const { body, contentType } = buildMultipartRelated([Buffer.from('x')], 'text/html');
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
    });
    server = p.server;
    await expect(client(p.url).retrieveStudy('1.2')).rejects.toMatchObject({ code: 'PACS_BAD_RESPONSE' });
  });

  it('reports PACS_UNAVAILABLE when nothing listens', async () => {
    const p = await peer(() => undefined);
    await new Promise((r) => p.server.close(r));
    await expect(client(p.url).searchStudies({})).rejects.toMatchObject({ code: 'PACS_UNAVAILABLE' });
  });
});
