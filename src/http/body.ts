import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors';

/** Request body larger than the route's limit. */
class PayloadTooLargeError extends AppError {
  readonly code = 'PAYLOAD_TOO_LARGE' as const;
  override readonly httpStatus = 413;
}

/** Reads a request body up to `limit` bytes; stops reading and rejects beyond it. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new PayloadTooLargeError('Request body too large', { limit }));
  }
  // The whole declared body is already buffered (usual for a small request: it came in the packet
  // with its headers): take it now instead of waiting a loop turn for the parser's end of message.
  if (Number.isFinite(declared) && declared > 0 && req.readableLength >= declared && !req.readableFlowing) {
    const buffered = req.read() as Buffer | null;
    if (buffered && buffered.length === declared) return Promise.resolve(buffered);
    if (buffered) req.unshift(buffered);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.resume();
        reject(new PayloadTooLargeError('Request body too large', { limit }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks, size));
      }
    });
    req.on('error', (error) => {
      if (!done) {
        done = true;
        reject(error);
      }
    });
  });
}
