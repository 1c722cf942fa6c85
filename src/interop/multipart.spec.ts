import { buildMultipartRelated, parseMediaType, parseMultipart } from './multipart';

describe('parseMediaType', () => {
  it('reads quoted and token parameters, case-insensitively named', () => {
    expect(
      parseMediaType('Multipart/Related; Type="application/dicom"; boundary=abc; transfer-syntax=*'),
    ).toEqual({
      type: 'multipart/related',
      params: { type: 'application/dicom', boundary: 'abc', 'transfer-syntax': '*' },
    });
    expect(parseMediaType('multipart/related; boundary="a;b"').params.boundary).toBe('a;b');
  });
});

describe('parseMultipart', () => {
  const a = Buffer.from('first part\r\n--not-the-boundary');
  const b = Buffer.alloc(3 * 1024 * 1024, 0x2d); // large part full of dashes
  const built = buildMultipartRelated([a, b], 'application/dicom');

  it('round-trips what buildMultipartRelated writes, large parts and boundary look-alikes included', () => {
    const parts = parseMultipart(built.body, built.contentType);
    expect(parts.map((p) => p.contentType)).toEqual(['application/dicom', 'application/dicom']);
    expect(parts[0]!.body.equals(a)).toBe(true);
    expect(parts[1]!.body.equals(b)).toBe(true);
    expect(parts[0]!.headers['content-length']).toBe(String(a.length));
  });

  it('accepts a preamble, transport padding and a part without headers', () => {
    const body = Buffer.from(
      'preamble\r\n--xx  \r\n\r\nhello\r\n--xx\r\nContent-Type: text/plain\r\n\r\nworld\r\n--xx--',
    );
    const parts = parseMultipart(body, 'multipart/related; boundary=xx');
    expect(parts.map((p) => [p.contentType, p.body.toString()])).toEqual([
      ['', 'hello'],
      ['text/plain', 'world'],
    ]);
  });

  it.each([
    ['not multipart', 'application/dicom', built.body],
    ['no boundary', 'multipart/related', built.body],
    ['boundary absent from the body', 'multipart/related; boundary=zzz', built.body],
    [
      'truncated before the close delimiter',
      built.contentType,
      built.body.subarray(0, built.body.length - 10),
    ],
    [
      'a header line without a colon',
      'multipart/related; boundary=q',
      Buffer.from('--q\r\nbroken header\r\n\r\nx\r\n--q--'),
    ],
    ['garbage after a delimiter', 'multipart/related; boundary=q', Buffer.from('--qX\r\n\r\nx\r\n--q--')],
  ])('refuses %s with MALFORMED_MULTIPART', (_name, type, body) => {
    expect(() => parseMultipart(body, type)).toThrow(
      expect.objectContaining({ code: 'MALFORMED_MULTIPART' }),
    );
  });

  it('refuses more parts than allowed with TOO_MANY_PARTS (413), and accepts as many as allowed', () => {
    const many = buildMultipartRelated(
      [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')],
      'application/dicom',
    );
    expect(() => parseMultipart(many.body, many.contentType, 2)).toThrow(
      expect.objectContaining({ code: 'TOO_MANY_PARTS', httpStatus: 413, details: { limit: 2 } }),
    );
    expect(parseMultipart(many.body, many.contentType, 3)).toHaveLength(3);
  });
});
