import { requestTarget } from './http-server';

describe('requestTarget', () => {
  it('splits an origin-form target as the URL parser does', () => {
    for (const raw of [
      '/graphql',
      '/graphql?query=%7B%20x%20%7D',
      '/graphql?',
      '/uploads/ab?_id=1#frag',
      '/',
    ]) {
      const url = new URL(raw, 'http://localhost');
      expect(requestTarget(raw)).toEqual({ pathname: url.pathname, search: url.search });
    }
    expect(requestTarget(undefined)).toEqual({ pathname: '/', search: '' });
  });

  it('leaves other forms (absolute, protocol-relative, backslashes) to the URL parser', () => {
    expect(requestTarget('http://host:4000/graphql?x=1')).toEqual({ pathname: '/graphql', search: '?x=1' });
    expect(requestTarget('//evil/graphql').pathname).toBe(
      new URL('//evil/graphql', 'http://localhost').pathname,
    );
    expect(requestTarget('/a\\b').pathname).toBe('/a/b');
  });
});
