import * as jose from 'jose';
import { Role } from '../domain/enums';
import { TokenService } from './token.service';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

describe('TokenService', () => {
  afterEach(() => jest.restoreAllMocks());

  it('verifies a token once and serves its next uses from memory, with the same principal', async () => {
    const tokens = new TokenService(SECRET, 'care-companion', 3600);
    const { token } = await tokens.mint('user-1', Role.RADIOLOGIST);
    const verify = jest.spyOn(jose, 'jwtVerify');
    const first = await tokens.verify(token);
    const second = await tokens.verify(token);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ userId: 'user-1', role: Role.RADIOLOGIST });
    expect(verify).toHaveBeenCalledTimes(1);
    second.role = Role.ADMIN; // a caller changing its copy changes nothing remembered
    expect((await tokens.verify(token)).role).toBe(Role.RADIOLOGIST);
  });

  it('still refuses a remembered token once it expires', async () => {
    const tokens = new TokenService(SECRET, 'care-companion', 3600);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    const { token } = await tokens.mint('user-1', Role.TECHNICIAN, 60);
    await tokens.verify(token);
    clock.mockReturnValue(now + 61_000);
    await expect(tokens.verify(token)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      details: { reason: 'EXPIRED' },
    });
  });

  it('checks the signature of every token text it has not verified (a tampered copy is refused)', async () => {
    const tokens = new TokenService(SECRET, 'care-companion', 3600);
    const { token } = await tokens.mint('user-1', Role.TECHNICIAN);
    await tokens.verify(token);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: Role.ADMIN })).toString('base64url');
    await expect(tokens.verify(`${header}.${forged}.${signature}`)).rejects.toMatchObject({
      details: { reason: 'INVALID' },
    });
    const other = new TokenService('another-secret-that-is-also-long-enough', 'care-companion', 3600);
    await expect(other.verify(token)).rejects.toMatchObject({ details: { reason: 'INVALID' } });
  });

  it('answers remembered() only for a token it verified and that has not expired', async () => {
    const tokens = new TokenService(SECRET, 'care-companion', 3600);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    const { token } = await tokens.mint('user-1', Role.TECHNICIAN, 60);
    expect(tokens.remembered(token)).toBeNull(); // minted here, never verified
    await tokens.verify(token);
    expect(tokens.remembered(token)).toMatchObject({ userId: 'user-1', role: Role.TECHNICIAN });
    const copy = tokens.remembered(token)!;
    copy.role = Role.ADMIN;
    expect(tokens.remembered(token)!.role).toBe(Role.TECHNICIAN);
    clock.mockReturnValue(now + 60_000);
    expect(tokens.remembered(token)).toBeNull(); // expired: verify() must say so
    await expect(tokens.verify(token)).rejects.toMatchObject({ details: { reason: 'EXPIRED' } });
  });
});

describe('TokenService claims (regression: a token without exp was valid forever, aud was not checked)', () => {
  const key = new TextEncoder().encode(SECRET);
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>) =>
    new jose.SignJWT({ role: Role.ADMIN, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(key);
  const complete = () => ({
    sub: 'user-1',
    jti: 'token-1',
    iss: 'care-companion',
    aud: 'care-companion-api',
    iat: now(),
    exp: now() + 600,
  });

  it('mints tokens carrying exp, sub, jti and aud, and accepts them (control)', async () => {
    const tokens = new TokenService(SECRET, 'care-companion', 3600);
    const { token } = await tokens.mint('user-1', Role.RADIOLOGIST);
    expect(jose.decodeJwt(token)).toMatchObject({ sub: 'user-1', aud: 'care-companion-api' });
    expect(jose.decodeJwt(token)).toHaveProperty('exp');
    expect(jose.decodeJwt(token)).toHaveProperty('jti');
    await expect(tokens.verify(await sign(complete()))).resolves.toMatchObject({ userId: 'user-1' });
  });

  it.each(['exp', 'sub', 'jti', 'aud'])('refuses a correctly signed token without %s', async (claim) => {
    const tokens = new TokenService(SECRET, 'care-companion', 3600);
    const claims: Record<string, unknown> = complete();
    delete claims[claim];
    await expect(tokens.verify(await sign(claims))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      details: { reason: 'INVALID' },
    });
  });

  it('refuses a token minted for another audience', async () => {
    const other = new TokenService(SECRET, 'care-companion', 3600, 'another-service');
    const { token } = await other.mint('user-1', Role.ADMIN);
    await expect(new TokenService(SECRET, 'care-companion', 3600).verify(token)).rejects.toMatchObject({
      details: { reason: 'INVALID' },
    });
  });
});
