// Bearer token verification (RFC 6750 with JWT access tokens, RFC 9068): signature against the
// configured keys — a remote JWKS (Keycloak or any OAuth 2.0 server), a JWKS from a Secret, the
// LCMP's own token-endpoint key — then issuer, audience and expiry. Asymmetric algorithms only.
// A verified token is remembered (by its SHA-256) until it expires, at most `cacheSeconds`, or until
// the locally trusted keys change: a signature check costs more than the rest of a request.
import { createHash } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';

const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

export class InvalidToken extends Error {}

export interface VerifiedToken {
  clientId: string;
  scope: string[];
}

export interface VerifierOptions {
  issuer: string;
  audience: string;
  jwksUrl?: string;
  /** Public keys trusted locally (read on every verification: they may rotate). */
  localKeys: () => JWK[];
  /** How long a verified token is trusted without checking it again (0: never cached). */
  cacheSeconds?: number;
  /** Most tokens remembered at once (the oldest go first). */
  cacheEntries?: number;
  now?: () => number;
}

interface Remembered {
  token: VerifiedToken;
  /** epoch ms after which the token is verified afresh */
  until: number;
}

function why(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim "${err.claim}" is not acceptable`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token is not signed by a trusted key';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token signature algorithm is not accepted';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid)
    return 'the issuer keys cannot be fetched';
  return 'the token is malformed';
}

export function createVerifier(opts: VerifierOptions) {
  const remote = opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl)) : undefined;
  let localFor = '';
  let local: JWTVerifyGetKey | undefined;
  const localSet = () => {
    const keys = opts.localKeys();
    const id = JSON.stringify(keys);
    if (id !== localFor) {
      localFor = id;
      local = keys.length ? createLocalJWKSet({ keys } as JSONWebKeySet) : undefined;
    }
    return local;
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    const l = localSet();
    if (l && !remote) return l(header, token);
    if (!l && remote) return remote(header, token);
    if (!l || !remote) throw new errors.JWKSNoMatchingKey();
    try {
      return await l(header, token);
    } catch {
      return remote(header, token);
    }
  };
  const now = opts.now ?? Date.now;
  const cacheMs = (opts.cacheSeconds ?? 30) * 1000;
  const maxEntries = opts.cacheEntries ?? 10_000;
  const remembered = new Map<string, Remembered>();
  let rememberedFor = '';
  return async function verify(token: string): Promise<VerifiedToken> {
    const id = createHash('sha256').update(token).digest('base64url');
    localSet();
    if (rememberedFor !== localFor) {
      remembered.clear();
      rememberedFor = localFor;
    }
    const hit = remembered.get(id);
    if (hit && hit.until > now()) return hit.token;
    if (hit) remembered.delete(id);
    const verified = await verifyNow(token);
    if (cacheMs > 0) {
      if (remembered.size >= maxEntries) remembered.delete(remembered.keys().next().value!);
      remembered.set(id, { token: verified.token, until: Math.min(verified.exp * 1000, now() + cacheMs) });
    }
    return verified.token;
  };

  async function verifyNow(token: string): Promise<{ token: VerifiedToken; exp: number }> {
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
        clockTolerance: 5,
        currentDate: new Date(now()),
      });
      // RFC 9068 client_id; Keycloak puts the client in azp; a bare token in sub
      const clientId = [payload.client_id, payload.azp, payload.sub].find((v) => typeof v === 'string');
      if (!clientId) throw new InvalidToken('the token names no client');
      const scope = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      return { token: { clientId: clientId as string, scope }, exp: payload.exp! };
    } catch (err) {
      if (err instanceof InvalidToken) throw err;
      throw new InvalidToken(why(err));
    }
  }
}

export type Verify = ReturnType<typeof createVerifier>;
