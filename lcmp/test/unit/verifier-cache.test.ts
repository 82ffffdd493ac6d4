// A verified token is remembered, but never past its expiry, nor once the keys that signed it are
// no longer trusted: the cache saves signature checks, it does not extend trust.
import { expect } from 'chai';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createVerifier, InvalidToken } from '../../src/auth/verifier.ts';

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } as JWK };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidToken);
    return (err as Error).message;
  }
  throw new Error('the token was accepted');
}

describe('lcmp/auth verifier cache', () => {
  const t0 = Date.parse('2026-12-01T10:00:00Z');
  const sign = (key: Awaited<ReturnType<typeof keyPair>>, expSeconds: number) =>
    new SignJWT({ client_id: 'ward-7' })
      .setProtectedHeader({ alg: 'ES256', kid: key.publicJwk.kid! })
      .setIssuer('urn:test')
      .setAudience('lcmp')
      .setExpirationTime(Math.floor(t0 / 1000) + expSeconds)
      .sign(key.privateKey);

  it('refuses a remembered token once it has expired', async () => {
    const key = await keyPair('a');
    let now = t0;
    const verify = createVerifier({
      issuer: 'urn:test',
      audience: 'lcmp',
      localKeys: () => [key.publicJwk],
      cacheSeconds: 3600,
      now: () => now,
    });
    const token = await sign(key, 60);
    expect((await verify(token)).clientId).to.equal('ward-7');
    now = t0 + 30_000;
    expect((await verify(token)).clientId).to.equal('ward-7');
    now = t0 + 70_000;
    expect(await refusal(verify(token))).to.equal('the token has expired');
  });

  it('forgets what it remembered when the trusted keys change', async () => {
    const a = await keyPair('a');
    const b = await keyPair('b');
    let trusted = [a.publicJwk];
    const verify = createVerifier({
      issuer: 'urn:test',
      audience: 'lcmp',
      localKeys: () => trusted,
      cacheSeconds: 3600,
      now: () => t0,
    });
    const token = await sign(a, 600);
    await verify(token);
    trusted = [b.publicJwk];
    expect(await refusal(verify(token))).to.equal('the token is not signed by a trusted key');
  });
});
