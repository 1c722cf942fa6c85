import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { readBody } from './body';

/** A request stream with a Content-Length header whose body bytes are (partly) buffered already. */
function request(declared: number | null, chunks: string[], ended: boolean): IncomingMessage {
  const stream = new Readable({ read() {} });
  for (const c of chunks) stream.push(Buffer.from(c));
  if (ended) stream.push(null);
  return Object.assign(stream, {
    headers: declared === null ? {} : { 'content-length': String(declared) },
  }) as unknown as IncomingMessage;
}

describe('readBody', () => {
  it('takes a body that is wholly buffered at once, before the end of the message is signalled', async () => {
    const req = request(7, ['{"a":1}'], false);
    expect((await readBody(req, 100)).toString()).toBe('{"a":1}');
  });

  it('waits for the rest when only part of the declared body has arrived', async () => {
    const req = request(10, ['{"a":'], false);
    const body = readBody(req, 100);
    (req as unknown as Readable).push(Buffer.from('12345'));
    (req as unknown as Readable).push(null);
    expect((await body).toString()).toBe('{"a":12345');
  });

  it('reads a body without Content-Length (chunked) to its end', async () => {
    const req = request(null, ['ab', 'cd'], true);
    expect((await readBody(req, 100)).toString()).toBe('abcd');
  });

  it('refuses a body over the limit, declared or streamed, with PAYLOAD_TOO_LARGE', async () => {
    await expect(readBody(request(101, ['x'], false), 100)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    await expect(readBody(request(null, ['x'.repeat(60), 'y'.repeat(60)], true), 100)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });
});
