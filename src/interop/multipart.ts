import { randomBytes } from 'node:crypto';
import { MalformedMultipartError, TooManyPartsError } from '../errors/interop-errors';

/** One body part of a multipart message. */
export interface MultipartPart {
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The part's Content-Type without parameters, lower case ('' when absent). */
  contentType: string;
  body: Buffer;
}

/** A media type split into its base and parameters (names lower case, quotes removed). */
export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** Parses a Content-Type header value (RFC 9110 media type with quoted or token parameters). */
export function parseMediaType(value: string | undefined): MediaType {
  const text = value ?? '';
  const semi = text.indexOf(';');
  const type = (semi < 0 ? text : text.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = {};
  const re = /;\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text.slice(Math.max(semi, 0)))) !== null) {
    let v = m[2]!.trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[m[1]!.toLowerCase()] = v;
  }
  return { type, params };
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * Parses a complete multipart body (RFC 2046, as used by DICOMweb multipart/related). Searches the
 * boundary with Buffer.indexOf, so parts of hundreds of megabytes cost one scan and no copies (part
 * bodies are views into `body`). Refuses, before anything is used, a body without the boundary,
 * without the closing delimiter (truncated), with unreadable part headers (MALFORMED_MULTIPART), or
 * with more than `maxParts` parts (TOO_MANY_PARTS, found while scanning: no part is used).
 */
export function parseMultipart(
  body: Buffer,
  contentType: string | undefined,
  maxParts = 10_000,
): MultipartPart[] {
  const media = parseMediaType(contentType);
  if (!media.type.startsWith('multipart/'))
    throw new MalformedMultipartError('The body is not multipart', { contentType: media.type.slice(0, 100) });
  const boundary = media.params.boundary;
  // RFC 2046 allows 70 characters; Orthanc's STOW-RS client sends 73, so real peers get some slack.
  if (!boundary || boundary.length > 200)
    throw new MalformedMultipartError('The multipart Content-Type has no valid boundary parameter');
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter may start the body (no preamble) or follow a preamble and CRLF.
  let pos: number;
  if (body.subarray(0, delimiter.length - 2).equals(delimiter.subarray(2))) pos = delimiter.length - 2;
  else {
    const at = body.indexOf(delimiter);
    if (at < 0) throw new MalformedMultipartError('The boundary does not occur in the body');
    pos = at + delimiter.length;
  }
  const parts: MultipartPart[] = [];
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // close delimiter "--"
    // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a)
      throw new MalformedMultipartError('A boundary delimiter is not followed by CRLF', {
        part: parts.length,
      });
    pos += 2;
    const next = body.indexOf(delimiter, pos);
    if (next < 0)
      throw new MalformedMultipartError('The body ends before the closing boundary (truncated)', {
        part: parts.length,
      });
    const headerEnd = body.indexOf(HEADER_END, pos);
    let headers: Record<string, string> = {};
    let start: number;
    if (body.subarray(pos, pos + 2).equals(CRLF)) start = pos + 2;
    else {
      if (headerEnd < 0 || headerEnd > next)
        throw new MalformedMultipartError('A part has no blank line after its headers', {
          part: parts.length,
        });
      headers = parseHeaders(body.subarray(pos, headerEnd).toString('latin1'), parts.length);
      start = headerEnd + 4;
    }
    parts.push({
      headers,
      contentType: parseMediaType(headers['content-type']).type,
      body: body.subarray(start, next),
    });
    if (parts.length > maxParts) throw new TooManyPartsError('Too many parts', { limit: maxParts });
    pos = next + delimiter.length;
  }
}

function parseHeaders(text: string, part: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MalformedMultipartError('A part header line is not "name: value"', { part });
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Builds a multipart/related body of `type` parts; returns it with its Content-Type header value. */
export function buildMultipartRelated(bodies: Buffer[], type: string): { body: Buffer; contentType: string } {
  const boundary = `care-companion-${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const b of bodies) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\nContent-Length: ${b.length}\r\n\r\n`));
    chunks.push(b, CRLF);
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/related; type="${type}"; boundary=${boundary}`,
  };
}
