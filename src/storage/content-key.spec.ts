import { contentAddressedKey, sha256 } from './content-key';
import { assertValidObjectKey } from './object-store';

describe('contentAddressedKey', () => {
  const digest = sha256(Buffer.from('hello'));

  it('hashes with SHA-256 in lower-case hex', () => {
    expect(digest).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  it('fans out by the first two byte pairs and keeps only the digest and extension', () => {
    const key = contentAddressedKey('images', digest, 'dcm');
    expect(key).toBe(`images/sha256/2c/f2/${digest}.dcm`);
    expect(() => assertValidObjectKey(key)).not.toThrow();
    expect(contentAddressedKey('heatmaps/v2', digest, 'png')).toBe(`heatmaps/v2/sha256/2c/f2/${digest}.png`);
  });

  it('gives the same bytes the same key', () => {
    expect(contentAddressedKey('images', sha256(Buffer.from('hello')), 'dcm')).toBe(
      contentAddressedKey('images', digest, 'dcm'),
    );
  });

  it.each([
    ['a name in the prefix', 'Doe John', digest, 'dcm'],
    ['a traversal prefix', '../images', digest, 'dcm'],
    ['an upper-case digest', 'images', digest.toUpperCase(), 'dcm'],
    ['a short digest', 'images', digest.slice(0, 63), 'dcm'],
    ['an extension with a dot', 'images', digest, '.dcm'],
    ['a date in the extension', 'images', digest, '2024-01-01'],
  ])('refuses %s', (_label, prefix, hex, ext) => {
    expect(() => contentAddressedKey(prefix, hex, ext)).toThrow(TypeError);
  });
});
