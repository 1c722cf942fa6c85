import { assertTtl, assertValidObjectKey, assertValidObjectPrefix } from './object-store';
import { InvalidObjectKeyError } from './storage-errors';

describe('object key rules', () => {
  it.each(['a', 'images/sha256/ab/cd/abcdef.dcm', 'A-Z_0.9/x.y', '.hidden/file', 'a.b/c'])(
    'accepts %j',
    (key) => {
      expect(() => assertValidObjectKey(key)).not.toThrow();
    },
  );

  it.each([
    ['../x', 'contains ..'],
    ['a/..', 'contains ..'],
    ['/abs', 'leading slash'],
    ['', 'empty'],
    ['a b', 'characters outside [A-Za-z0-9._/-]'],
    ['a~b', 'characters outside [A-Za-z0-9._/-]'],
    ['a//b', 'empty path segment'],
    ['a/', 'empty path segment'],
    ['./a', '"." path segment'],
    ['x'.repeat(201), 'path segment too long'],
    ['a/'.repeat(300), 'too long'],
  ])('rejects %j (%s) without echoing the key', (key, rule) => {
    let caught: unknown;
    try {
      assertValidObjectKey(key);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidObjectKeyError);
    expect(caught).toMatchObject({
      code: 'INVALID_OBJECT_KEY',
      httpStatus: 500,
      details: { rule, length: key.length },
    });
    if (key) expect(JSON.stringify((caught as InvalidObjectKeyError).details)).not.toContain(key);
  });

  it('accepts list prefixes that are empty or end in a slash', () => {
    for (const prefix of ['', 'images/', 'images/sha256/a', 'images/sha256/ab/'])
      expect(() => assertValidObjectPrefix(prefix)).not.toThrow();
    for (const prefix of ['/', '../', 'a//', 'a b/'])
      expect(() => assertValidObjectPrefix(prefix)).toThrow(InvalidObjectKeyError);
  });

  it('bounds URL lifetimes to 1 second..7 days', () => {
    expect(() => assertTtl(1)).not.toThrow();
    expect(() => assertTtl(604800)).not.toThrow();
    for (const ttl of [0, -1, 1.5, 604801, Number.NaN]) expect(() => assertTtl(ttl)).toThrow(RangeError);
  });
});
